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
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_owned())
    })
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
        // A fuzz finding: brackets inside the target made a link out of a malformed header.
        assert_eq!(
            next_link("</tags/list?a>st=3.12&n=100>; rel=\"next\""),
            None
        );
    }
}
