//! `registry::oci` against the real Distribution registry (Debian's `docker-registry`),
//! seeded through its HTTP API with multi-platform images shaped like the official python
//! image: anonymous, with htpasswd basic auth, and with bearer tokens from a token service.

use crate::support;

use std::time::Duration;

use repin::registry::http::{HttpClient, HttpConfig};
use repin::registry::oci::{
    Credential, Manifest, OciClient, OciError, OciSettings, Platform, platforms_changed,
};
use support::registry::{Registry, RegistryAuth, TokenSigner};
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(settings: OciSettings) -> OciClient {
    let http = HttpClient::new(HttpConfig {
        backoff: Duration::from_millis(5),
        ..HttpConfig::default()
    })
    .unwrap();
    OciClient::new(http, settings)
}

const TAGS: &[&str] = &[
    "3",
    "3.12",
    "3.12.4",
    "3.12.4-slim-bookworm",
    "3.12.5-slim-bookworm",
    "3.12-slim",
    "3.12.4-alpine3.20",
    "3.12-bookworm",
    "3.12-trixie",
    "3.12-slim-trixie",
    "3.13.0-slim-bookworm",
    "3.13-slim",
];

#[test]
fn tags_digests_platforms_and_refreshes_on_a_real_registry() {
    let registry = Registry::start(RegistryAuth::None);
    let mut pushed = std::collections::BTreeMap::new();
    for tag in TAGS {
        pushed.insert(
            *tag,
            registry.push_index(
                "library/python",
                tag,
                &format!("{tag}-amd64"),
                &format!("{tag}-arm64"),
            ),
        );
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Five tags a page: the twelve tags come in three pages linked by `Link` headers.
    let c = client(OciSettings {
        page_size: Some(5),
        ..OciSettings::default()
    });
    rt.block_on(async {
        let mut tags = c.tags(&registry.host, "library/python").await.unwrap();
        tags.sort();
        let mut expected: Vec<String> = TAGS.iter().map(|t| (*t).to_owned()).collect();
        expected.sort();
        assert_eq!(tags, expected);

        // HEAD gives the index digest the test computed when pushing.
        let (index, amd, arm) = &pushed["3.12-slim"];
        let info = c
            .digest(&registry.host, "library/python", "3.12-slim")
            .await
            .unwrap();
        assert_eq!(&info.digest, index);
        assert_eq!(
            info.media_type.as_deref(),
            Some("application/vnd.oci.image.index.v1+json")
        );
        let old = c
            .manifest(&registry.host, "library/python", index)
            .await
            .unwrap();
        let amd64 = Platform::parse("linux/amd64").unwrap();
        let arm64 = Platform::parse("linux/arm64").unwrap();
        assert_eq!(old.for_platform(&amd64), Some(amd.as_str()));
        assert_eq!(old.for_platform(&arm64), Some(arm.as_str()));
        assert!(matches!(old, Manifest::Index { ref entries, .. } if entries.len() == 2));
    });

    // The tag is rebuilt for arm64 only: a new index digest, the same amd64 manifest.
    let (rebuilt, amd_again, _) = registry.push_index(
        "library/python",
        "3.12-slim",
        "3.12-slim-amd64",
        "3.12-slim-arm64-rebuilt",
    );
    assert_eq!(amd_again, pushed["3.12-slim"].1);
    // A digest-only refresh of another tag that changes amd64.
    let (moved, _, _) = registry.push_index(
        "library/python",
        "3.13-slim",
        "3.13-slim-amd64-rebuilt",
        "3.13-slim-arm64",
    );
    rt.block_on(async {
        let amd64 = [Platform::parse("linux/amd64").unwrap()];
        let both = [amd64[0].clone(), Platform::parse("linux/arm64").unwrap()];
        let old = c
            .manifest(&registry.host, "library/python", &pushed["3.12-slim"].0)
            .await
            .unwrap();
        let now = c
            .digest(&registry.host, "library/python", "3.12-slim")
            .await
            .unwrap();
        assert_eq!(now.digest, rebuilt);
        let new = c
            .manifest(&registry.host, "library/python", &now.digest)
            .await
            .unwrap();
        assert!(
            !platforms_changed(&old, &new, &amd64),
            "amd64 did not change"
        );
        assert!(platforms_changed(&old, &new, &both), "arm64 did");
        let old13 = c
            .manifest(&registry.host, "library/python", &pushed["3.13-slim"].0)
            .await
            .unwrap();
        let new13 = c
            .manifest(&registry.host, "library/python", &moved)
            .await
            .unwrap();
        assert!(platforms_changed(&old13, &new13, &amd64));

        let missing = c
            .digest(&registry.host, "library/python", "2.7")
            .await
            .unwrap_err();
        assert!(
            matches!(missing, OciError::ManifestNotFound { .. }),
            "{missing}"
        );
        let no_repo = c.tags(&registry.host, "library/nothing").await.unwrap_err();
        assert!(
            matches!(no_repo, OciError::RepositoryNotFound { .. }),
            "{no_repo}"
        );
    });
}

#[test]
fn basic_auth_with_and_without_credentials() {
    let registry = Registry::start(RegistryAuth::Basic("repin", "s3cret-pw"));
    registry.push_index("team/app", "1.0", "a", "b");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let anonymous = client(OciSettings::default());
        let error = anonymous
            .tags(&registry.host, "team/app")
            .await
            .unwrap_err();
        assert!(
            matches!(error, OciError::Unauthorized { status: 401, .. }),
            "{error}"
        );
        let mut settings = OciSettings::default();
        settings.credentials.insert(
            registry.host.clone(),
            Credential {
                username: "repin".into(),
                secret: "s3cret-pw".into(),
            },
        );
        let with = client(settings);
        assert_eq!(
            with.tags(&registry.host, "team/app").await.unwrap(),
            vec!["1.0"]
        );
        assert!(
            with.digest(&registry.host, "team/app", "1.0")
                .await
                .unwrap()
                .digest
                .starts_with("sha256:")
        );
    });
}

#[test]
fn bearer_tokens_from_a_token_service() {
    let keys = tempfile::tempdir().unwrap();
    let signer = TokenSigner::new(keys.path());
    let pull_token = signer.token(&["library/python"], &["pull"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The token service: a double of Docker's token protocol, answering the registry's realm.
    let tokens = rt.block_on(async {
        let server = MockServer::start().await;
        Mock::given(path("/token"))
            .and(query_param("service", "repin-test"))
            .and(query_param("scope", "repository:library/python:pull"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"token": pull_token, "expires_in": 300})),
            )
            .expect(1)
            .mount(&server)
            .await;
        server
    });
    let realm = format!("{}/token", tokens.uri());
    let registry = Registry::start(RegistryAuth::Token { realm, signer });
    registry.push_index("library/python", "3.12-slim", "x", "y");
    rt.block_on(async {
        let c = client(OciSettings::default());
        assert_eq!(
            c.tags(&registry.host, "library/python").await.unwrap(),
            vec!["3.12-slim"]
        );
        // The cached token serves the next request: the token service is asked once.
        assert!(
            c.digest(&registry.host, "library/python", "3.12-slim")
                .await
                .is_ok()
        );
    });
}
