//! The `Link` response header (RFC 8288) as paginated APIs use it: OCI registries' tag lists
//! and GitHub's REST API both link their next page with `rel="next"`.

/// The `rel="next"` target of a `Link` header, as written (relative or absolute).
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        // A URI reference holds no `<` or `>` (RFC 8288, RFC 3986): a target with one is not a
        // link but a malformed (or crafted) header, never followed.
        if target.contains(['<', '>']) {
            return None;
        }
        params.split(';').any(is_next).then(|| target.to_owned())
    })
}

/// Whether one parameter of a link is `rel` with `next` among its relation types: `rel=next`,
/// `rel = "next"`, `REL="prev next"` (RFC 8288: the name is case-insensitive, white space may
/// surround `=`, and the value is a space-separated list). White space inside a relation type
/// is not removed: `rel=nex t` names `nex` and `t`.
fn is_next(param: &str) -> bool {
    let Some((name, value)) = param.split_once('=') else {
        return false;
    };
    if !name.trim().eq_ignore_ascii_case("rel") {
        return false;
    }
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    value
        .split_ascii_whitespace()
        .any(|relation| relation.eq_ignore_ascii_case("next"))
}

#[cfg(test)]
mod tests {
    use super::next_link;

    #[test]
    fn next_link_is_found_quoted_or_not_and_other_relations_are_ignored() {
        assert_eq!(
            next_link("</v2/x/tags/list?n=2&last=b>; rel=\"next\""),
            Some("/v2/x/tags/list?n=2&last=b".into())
        );
        assert_eq!(
            next_link("<https://r/v2/x?last=b>; rel=next"),
            Some("https://r/v2/x?last=b".into())
        );
        assert_eq!(
            next_link(
                "<https://api.github.com/x?page=1>; rel=\"prev\", <https://api.github.com/x?page=3>; rel=\"next\""
            ),
            Some("https://api.github.com/x?page=3".into())
        );
        assert_eq!(next_link("</a>; rel=\"prev\""), None);
        assert_eq!(next_link("no link at all"), None);
        // RFC 8288: a list of relation types, white space around `=`, any case.
        assert_eq!(next_link("</p3>; rel=\"prev next\""), Some("/p3".into()));
        assert_eq!(next_link("</p3> ; REL = \"Next\""), Some("/p3".into()));
        // A fuzz finding: white space inside the relation was removed, so `nex t` was `next`.
        assert_eq!(next_link("</p3>; rel = nex t"), None);
        assert_eq!(next_link("</p3>; rel=\"ne xt\""), None);
        assert_eq!(next_link("</p3>; relnext"), None);
        // A fuzz finding: brackets inside the target made a link out of a malformed header.
        assert_eq!(
            next_link("</tags/list?a>st=3.12&n=100>; rel=\"next\""),
            None
        );
    }
}
