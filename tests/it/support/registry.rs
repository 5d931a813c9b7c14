//! A real Distribution registry (Debian's `docker-registry`) on a free loopback port, stopped
//! when dropped, with helpers to push images through its HTTP API.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256};

/// How the registry authenticates.
pub enum RegistryAuth {
    /// Anonymous access.
    None,
    /// htpasswd basic auth with this user and password.
    Basic(&'static str, &'static str),
    /// Bearer tokens from a token service at `realm`, signed by `signer`.
    Token { realm: String, signer: TokenSigner },
}

/// A running registry.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub host: String,
    _dir: tempfile::TempDir,
    /// Authorization header value for pushes (basic or bearer), if any.
    pub push_auth: Option<String>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The registry binary of Debian's `docker-registry` package; a failure that says how to
/// install it when it is missing (a test never passes without testing).
pub fn binary() -> PathBuf {
    let path = PathBuf::from("/usr/bin/docker-registry");
    assert!(
        path.is_file(),
        "docker-registry is not installed at {}, and this test starts it\n  hint: `apt-get install docker-registry` (`scripts/test` installs it when run as root or with sudo)",
        path.display()
    );
    path
}

impl Registry {
    /// Start a registry (a missing binary fails the test).
    pub fn start(auth: RegistryAuth) -> Registry {
        let binary = binary();
        let dir = tempfile::tempdir().unwrap();
        let (auth_yaml, push_auth) = match &auth {
            RegistryAuth::None => (String::new(), None),
            RegistryAuth::Basic(user, password) => {
                let hash = bcrypt::hash(password, 4).unwrap();
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, format!("{user}:{hash}\n")).unwrap();
                let basic =
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
                (
                    format!(
                        "auth:\n  htpasswd:\n    realm: repin-test\n    path: {}\n",
                        file.display()
                    ),
                    Some(format!("Basic {basic}")),
                )
            }
            RegistryAuth::Token { realm, signer } => (
                format!(
                    "auth:\n  token:\n    realm: {realm}\n    service: repin-test\n    issuer: repin-test-issuer\n    rootcertbundle: {}\n",
                    signer.cert_pem.display()
                ),
                Some(format!(
                    "Bearer {}",
                    signer.token(&["library/python", "team/app"], &["pull", "push"])
                )),
            ),
        };
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:0\n{auth_yaml}",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        // Port 0: the OS gives it one, found below (see `support::ports`).
        let mut child = Command::new(binary)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let port = super::ports::wait_for_port(&mut child, "docker-registry", String::new);
        let host = format!("127.0.0.1:{port}");
        let registry = Registry {
            child,
            host,
            _dir: dir,
            push_auth,
        };
        for _ in 0..200 {
            if std::net::TcpStream::connect(&registry.host).is_ok() {
                return registry;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("docker-registry did not start on {}", registry.host);
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.host)
    }

    fn request(
        &self,
        client: &reqwest::blocking::Client,
        method: reqwest::Method,
        url: &str,
    ) -> reqwest::blocking::RequestBuilder {
        let r = client.request(method, url);
        match &self.push_auth {
            Some(a) => r.header("authorization", a),
            None => r,
        }
    }

    /// Upload a blob; returns its digest.
    pub fn push_blob(&self, repository: &str, bytes: &[u8]) -> String {
        let client = reqwest::blocking::Client::new();
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        let start = self
            .request(
                &client,
                reqwest::Method::POST,
                &self.url(&format!("/v2/{repository}/blobs/uploads/")),
            )
            .send()
            .unwrap();
        assert_eq!(
            start.status().as_u16(),
            202,
            "upload start: {:?}",
            start.text()
        );
        let location = start.headers()["location"].to_str().unwrap().to_owned();
        let location = if location.starts_with("http") {
            location
        } else {
            self.url(&location)
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = self
            .request(
                &client,
                reqwest::Method::PUT,
                &format!("{location}{sep}digest={digest}"),
            )
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .unwrap();
        assert_eq!(put.status().as_u16(), 201, "upload: {:?}", put.text());
        digest
    }

    /// Put a manifest under `reference`; returns the digest the registry reports.
    pub fn push_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> String {
        let client = reqwest::blocking::Client::new();
        let put = self
            .request(
                &client,
                reqwest::Method::PUT,
                &self.url(&format!("/v2/{repository}/manifests/{reference}")),
            )
            .header("content-type", media_type)
            .body(body.to_vec())
            .send()
            .unwrap();
        assert_eq!(
            put.status().as_u16(),
            201,
            "manifest {reference}: {:?}",
            put.text()
        );
        put.headers()["docker-content-digest"]
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// Push a single-platform image whose layer holds `seed`; returns (manifest digest, bytes).
    pub fn push_image(
        &self,
        repository: &str,
        os: &str,
        arch: &str,
        seed: &str,
    ) -> (String, usize) {
        self.push_image_created(repository, None, os, arch, seed, None)
    }

    /// [`Registry::push_image`] under `tag` when given (else by digest), with the config's
    /// `created` time (RFC 3339) when given.
    pub fn push_image_created(
        &self,
        repository: &str,
        tag: Option<&str>,
        os: &str,
        arch: &str,
        seed: &str,
        created: Option<&str>,
    ) -> (String, usize) {
        let mut config = serde_json::json!({"architecture": arch, "os": os, "rootfs": {"type": "layers", "diff_ids": []}, "config": {"Labels": {"seed": seed}}});
        if let Some(created) = created {
            config["created"] = created.into();
        }
        let config = serde_json::to_vec(&config).unwrap();
        let layer = format!("layer {seed}").into_bytes();
        let config_digest = self.push_blob(repository, &config);
        let layer_digest = self.push_blob(repository, &layer);
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}]
        }))
        .unwrap();
        let by_digest = format!("sha256:{}", hex::encode(Sha256::digest(&manifest)));
        let digest = self.push_manifest(
            repository,
            tag.unwrap_or(&by_digest),
            "application/vnd.oci.image.manifest.v1+json",
            &manifest,
        );
        (digest, manifest.len())
    }

    /// Push a multi-platform index (amd64 and arm64 built from `seeds`) under `tag`; returns
    /// the index digest and the platform manifests' digests.
    pub fn push_index(
        &self,
        repository: &str,
        tag: &str,
        amd64_seed: &str,
        arm64_seed: &str,
    ) -> (String, String, String) {
        self.push_index_created(repository, tag, (amd64_seed, None), (arm64_seed, None))
    }

    /// [`Registry::push_index`] with each image's config `created` time (RFC 3339) when given:
    /// `(seed, created)` for amd64, then arm64.
    pub fn push_index_created(
        &self,
        repository: &str,
        tag: &str,
        amd64: (&str, Option<&str>),
        arm64: (&str, Option<&str>),
    ) -> (String, String, String) {
        let (amd, amd_size) =
            self.push_image_created(repository, None, "linux", "amd64", amd64.0, amd64.1);
        let (arm, arm_size) =
            self.push_image_created(repository, None, "linux", "arm64", arm64.0, arm64.1);
        let index = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd, "size": amd_size, "platform": {"os": "linux", "architecture": "amd64"}},
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": arm, "size": arm_size, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}
            ]
        }))
        .unwrap();
        let digest = self.push_manifest(
            repository,
            tag,
            "application/vnd.oci.image.index.v1+json",
            &index,
        );
        assert_eq!(
            digest,
            format!("sha256:{}", hex::encode(Sha256::digest(&index)))
        );
        (digest, amd, arm)
    }

    /// Push an index with one linux/amd64 image whose config says no build time, and whose
    /// entry in the index carries `org.opencontainers.image.created` (as the official images'
    /// indexes do). Returns the index's digest.
    pub fn push_index_entry_created(
        &self,
        repository: &str,
        tag: &str,
        seed: &str,
        created: &str,
    ) -> String {
        let (amd, amd_size) =
            self.push_image_created(repository, None, "linux", "amd64", seed, None);
        let index = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": amd, "size": amd_size, "platform": {"os": "linux", "architecture": "amd64"},
                 "annotations": {"org.opencontainers.image.created": created}}
            ]
        }))
        .unwrap();
        self.push_manifest(
            repository,
            tag,
            "application/vnd.oci.image.index.v1+json",
            &index,
        )
    }
}

/// Signs registry tokens (RS256 JWTs) with a throw-away key whose self-signed certificate the
/// registry trusts, using the `openssl` command line.
pub struct TokenSigner {
    dir: PathBuf,
    /// The certificate bundle the registry trusts.
    pub cert_pem: PathBuf,
    x5c: String,
}

fn openssl(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    let mut child = super::shared::command("openssl", "openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    if let Some(input) = input {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenSigner {
    /// A new key and certificate in `dir`.
    pub fn new(dir: &Path) -> TokenSigner {
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
                "-subj",
                "/CN=repin-test-issuer",
                "-days",
                "2",
            ],
            None,
        );
        let der = openssl(dir, &["x509", "-in", "cert.pem", "-outform", "DER"], None);
        TokenSigner {
            dir: dir.to_path_buf(),
            cert_pem: dir.join("cert.pem"),
            x5c: base64::engine::general_purpose::STANDARD.encode(der),
        }
    }

    /// A token granting `actions` on the repositories `names` (`*` for all), valid for an hour.
    pub fn token(&self, names: &[&str], actions: &[&str]) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5c": [self.x5c]});
        let access: Vec<_> = names
            .iter()
            .map(|n| serde_json::json!({"type": "repository", "name": n, "actions": actions}))
            .collect();
        let claims = serde_json::json!({
            "iss": "repin-test-issuer", "sub": "repin", "aud": "repin-test",
            "exp": now + 3600, "nbf": now - 60, "iat": now - 60, "jti": format!("{now}-{}", names.join(",")),
            "access": access
        });
        let signing_input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let signature = openssl(
            &self.dir,
            &["dgst", "-sha256", "-sign", "key.pem"],
            Some(signing_input.as_bytes()),
        );
        format!("{signing_input}.{}", b64url(&signature))
    }
}
