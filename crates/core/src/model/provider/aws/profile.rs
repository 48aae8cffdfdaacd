//! The shared config and credentials files: `[name]` sections in
//! `credentials`, `[profile name]` (and `[default]`) in `config`; keys in
//! `credentials` win over the same keys in `config`, as in the AWS CLI.

use std::{collections::HashMap, path::Path};

use crate::model::settings::{AwsChain, AwsCredentials, WebIdentity};

/// Files larger than this are not profile files.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// What a profile provides.
pub(super) enum Profile {
    Static(AwsCredentials),
    WebIdentity(WebIdentity),
}

/// The profile `name`: `Ok(None)` when neither file has it.
pub(super) async fn load(chain: &AwsChain, name: &str) -> Result<Option<Profile>, String> {
    let mut keys: HashMap<String, String> = HashMap::new();
    let mut found = false;
    if let Some(path) = &chain.config_file
        && let Some(text) = read(path).await?
        && let Some(section) = section(&text, name, true)
    {
        found = true;
        keys.extend(section);
    }
    if let Some(path) = &chain.credentials_file
        && let Some(text) = read(path).await?
        && let Some(section) = section(&text, name, false)
    {
        found = true;
        keys.extend(section);
    }
    if !found {
        return Ok(None);
    }
    let get = |k: &str| keys.get(k).filter(|v| !v.is_empty()).cloned();
    if let (Some(access_key_id), Some(secret_access_key)) =
        (get("aws_access_key_id"), get("aws_secret_access_key"))
    {
        return Ok(Some(Profile::Static(AwsCredentials {
            access_key_id,
            secret_access_key,
            session_token: get("aws_session_token"),
        })));
    }
    if let (Some(token_file), Some(role_arn)) = (get("web_identity_token_file"), get("role_arn")) {
        return Ok(Some(Profile::WebIdentity(WebIdentity {
            token_file: token_file.into(),
            role_arn,
            session_name: get("role_session_name").unwrap_or_else(|| "ffmcp".into()),
        })));
    }
    let unsupported = [
        "source_profile",
        "credential_process",
        "sso_session",
        "sso_start_url",
    ]
    .into_iter()
    .find(|k| keys.contains_key(*k));
    Err(match unsupported {
        Some(key) => format!(
            "uses `{key}`, which ffmcp does not support; give the profile static keys or a \
             web_identity_token_file, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        ),
        None => "has no aws_access_key_id/aws_secret_access_key".to_owned(),
    })
}

/// The `region` of the profile `AWS_PROFILE` names, from the config file
/// (read once, when the settings are built).
pub(crate) fn profile_region(chain: &AwsChain) -> Option<String> {
    let path = chain.config_file.as_ref()?;
    if std::fs::metadata(path).ok()?.len() > MAX_FILE_BYTES {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let name = if chain.profile.is_empty() {
        "default"
    } else {
        chain.profile.as_str()
    };
    section(&text, name, true)?
        .remove("region")
        .filter(|r| !r.is_empty())
}

async fn read(path: &Path) -> Result<Option<String>, String> {
    match tokio::fs::metadata(path).await {
        Ok(meta) if meta.len() > MAX_FILE_BYTES => {
            return Err(format!(
                "{} is larger than {MAX_FILE_BYTES} bytes; not a profile file",
                path.display()
            ));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    }
    tokio::fs::read_to_string(path)
        .await
        .map(Some)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The keys of section `name` (`[profile name]` or `[name]` in a config
/// file, `[name]` in a credentials file), lower-cased; `None` if absent.
fn section(text: &str, name: &str, config: bool) -> Option<HashMap<String, String>> {
    let mut current: Option<bool> = None;
    let mut keys = HashMap::new();
    let mut found = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let header = header.trim();
            let this = if config {
                header
                    .strip_prefix("profile ")
                    .map(str::trim)
                    .is_some_and(|h| h == name)
                    || (name == "default" && header == "default")
            } else {
                header == name
            };
            found |= this;
            current = Some(this);
            continue;
        }
        if current != Some(true) {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            let value = value.trim();
            // An inline comment needs whitespace before it.
            let value = value
                .split_once(" #")
                .or_else(|| value.split_once(" ;"))
                .map_or(value, |(v, _)| v)
                .trim();
            keys.insert(key.trim().to_ascii_lowercase(), value.to_owned());
        }
    }
    found.then_some(keys)
}

#[cfg(test)]
mod tests {
    use super::section;

    #[test]
    fn sections_are_found_by_file_kind() {
        let config = "[default]\nregion = eu-west-1\n\n[profile ci]\n# a comment\nregion=us-west-2 ; inline\nrole_arn = arn:aws:iam::1:role/x\n[ci]\nregion = wrong\n";
        let default = section(config, "default", true).expect("default");
        assert_eq!(default["region"], "eu-west-1");
        let ci = section(config, "ci", true).expect("ci");
        assert_eq!(ci["region"], "us-west-2");
        assert_eq!(ci["role_arn"], "arn:aws:iam::1:role/x");
        assert!(section(config, "other", true).is_none());
        let credentials = "[ci]\naws_access_key_id = AKID\naws_secret_access_key = s/e+c=\n";
        let ci = section(credentials, "ci", false).expect("ci");
        assert_eq!(ci["aws_secret_access_key"], "s/e+c=");
        assert!(
            section(credentials, "ci", true).is_none(),
            "config files use [profile ci]"
        );
    }
}
