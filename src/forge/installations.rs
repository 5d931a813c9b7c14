//! The repositories a GitHub App can work on: its installations (`GET /app/installations`,
//! with the App's JWT) and each installation's repositories (`GET /installation/repositories`,
//! with a token of that installation), every page of both ("Installations" and "GitHub Apps"
//! in GitHub's REST reference).

use serde::Deserialize;

use super::github::{GitHub, GitHubError};

/// One installation of the App: on a user's or an organization's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// Its ID.
    pub id: u64,
    /// The account it is installed on (a login).
    pub account: String,
    /// Whether it is suspended (its tokens are refused: it has nothing to serve).
    pub suspended: bool,
}

#[derive(Deserialize)]
struct RawAccount {
    login: String,
}

#[derive(Deserialize)]
struct RawInstallation {
    id: u64,
    #[serde(default)]
    account: Option<RawAccount>,
    #[serde(default)]
    suspended_at: Option<String>,
}

#[derive(Deserialize)]
struct RawRepository {
    full_name: String,
}

/// `GET /installation/repositories` answers an object, its page of repositories inside.
#[derive(Deserialize)]
struct RawRepositories {
    repositories: Vec<RawRepository>,
}

impl GitHub {
    /// Every installation of the App; the client must carry the App's JWT.
    pub async fn installations(&self) -> Result<Vec<Installation>, GitHubError> {
        let mut url = self.endpoint("app/installations");
        url.query_pairs_mut().append_pair("per_page", "100");
        let raw: Vec<RawInstallation> = self
            .pages_of("list the App's installations", url, |page| page)
            .await?;
        Ok(raw
            .into_iter()
            .map(|i| Installation {
                id: i.id,
                account: i.account.map(|a| a.login).unwrap_or_default(),
                suspended: i.suspended_at.is_some(),
            })
            .collect())
    }

    /// The repositories (`owner/name`) of installation `installation`, with a token of that
    /// installation bought with the App's JWT this client carries.
    pub async fn installation_repositories(
        &self,
        installation: u64,
    ) -> Result<Vec<String>, GitHubError> {
        let token = self
            .access_token(
                installation,
                &serde_json::json!({}),
                &format!("make a token of installation {installation}"),
            )
            .await?;
        let mut url = self.endpoint("installation/repositories");
        url.query_pairs_mut().append_pair("per_page", "100");
        let raw = self
            .with_token(token)
            .pages_of(
                &format!("list the repositories of installation {installation}"),
                url,
                |page: RawRepositories| page.repositories,
            )
            .await?;
        Ok(raw.into_iter().map(|r| r.full_name).collect())
    }
}

#[cfg(test)]
mod tests {
    //! GitHub cannot be reached here: the API is a loopback server answering as GitHub's REST
    //! documentation shows (installation objects, the repositories object, `Link` pagination),
    //! and nothing else.

    use super::*;
    use crate::loopback::{Loopback, Reply};
    use crate::registry::http::{HttpClient, HttpConfig};

    #[tokio::test]
    async fn installations_and_their_repositories_are_listed_page_by_page() {
        let api = Loopback::start(|seen| {
            let auth = seen.header("authorization").unwrap_or_default().to_owned();
            let json = |value: serde_json::Value| {
                Reply::ok("application/json", serde_json::to_vec(&value).unwrap())
            };
            let path = seen.path.as_str();
            if path.starts_with("/app/installations?") && auth == "Bearer app-jwt" {
                if path.contains("page=2") {
                    return json(serde_json::json!([
                        {"id": 8, "account": {"login": "bolt"}, "suspended_at": "2026-01-01T00:00:00Z"}
                    ]));
                }
                return json(serde_json::json!([{"id": 7, "account": {"login": "acme"}, "suspended_at": null}]))
                    .with_header("Link", "</app/installations?per_page=100&page=2>; rel=\"next\"");
            }
            if path == "/app/installations/7/access_tokens" && auth == "Bearer app-jwt" {
                return json(serde_json::json!({"token": "ghs_installation7"}));
            }
            if path.starts_with("/installation/repositories?") && auth == "Bearer ghs_installation7"
            {
                let (name, next) = if path.contains("page=2") {
                    ("acme/worker", None)
                } else {
                    (
                        "acme/service",
                        Some("</installation/repositories?per_page=100&page=2>; rel=\"next\""),
                    )
                };
                let reply = json(serde_json::json!({
                    "total_count": 2, "repository_selection": "selected",
                    "repositories": [{"id": 1, "name": name.split('/').nth(1), "full_name": name}]
                }));
                return match next {
                    Some(link) => reply.with_header("Link", link),
                    None => reply,
                };
            }
            // Anything else is unexpected: the 404 fails the listing, and so the test.
            Reply::status(404, r#"{"message": "Not Found"}"#)
        });
        let http = HttpClient::new(HttpConfig::for_run()).unwrap();
        let app = GitHub::unbound(http, &api.url("/"), Some("app-jwt".into())).unwrap();
        assert_eq!(
            app.installations().await.unwrap(),
            [
                Installation {
                    id: 7,
                    account: "acme".into(),
                    suspended: false
                },
                Installation {
                    id: 8,
                    account: "bolt".into(),
                    suspended: true
                }
            ]
        );
        assert_eq!(
            app.installation_repositories(7).await.unwrap(),
            ["acme/service", "acme/worker"]
        );
        // A token for the whole installation: no repository named.
        let asked = api
            .requests()
            .into_iter()
            .find(|r| r.path.ends_with("/access_tokens"))
            .unwrap();
        assert_eq!(asked.body, b"{}");
    }
}
