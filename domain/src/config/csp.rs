//! The Content-Security-Policy of the app's pages, from the origins the configuration names.
//! (Answers that are not pages get `edge::headers`' stricter default; file bytes their own
//! `sandbox` policy.)

use super::Config;

impl Config {
    /// The policy of a page whose inline scripts (Leptos' hydration and streamed data) carry
    /// `nonce`: scripts only from our origin (or the assets origin) and those inline ones — no
    /// `unsafe-inline`, no `eval` (WebAssembly compilation only); no plugins, no `<base>`, no
    /// framing by anyone, forms posted only to us. Images, media and frames also from the
    /// user-content origin and, with presigned downloads, the bucket; with direct uploads the
    /// browser may send parts to the bucket. `live_reload` (development) allows the reload
    /// socket.
    pub fn page_policy(&self, nonce: &str, live_reload: bool) -> String {
        let assets = origin(&self.assets_base_url).unwrap_or_default();
        let user_content = self.user_content_url.as_deref().and_then(origin).unwrap_or_default();
        let bucket = self.bucket_origin().unwrap_or_default();
        let content = format!(
            "{user_content} {}",
            if self.s3_presigned_downloads { bucket.as_str() } else { "" }
        );
        // The bundle's WebAssembly (main module and lazy chunks) is fetched, from the assets'
        // origin when they are on a CDN.
        let connect = format!(
            "{assets} {} {}",
            if self.s3_direct_uploads { bucket.as_str() } else { "" },
            if live_reload { "ws:" } else { "" }
        );
        let directives = [
            "default-src 'self'".to_owned(),
            format!("script-src 'self' {assets} 'nonce-{nonce}' 'wasm-unsafe-eval'"),
            format!("style-src 'self' {assets}"),
            // Leptos renders `style:` bindings (upload progress) as attributes; no <style>.
            "style-src-attr 'unsafe-inline'".to_owned(),
            format!("font-src 'self' {assets}"),
            format!("img-src 'self' data: blob: {content}"),
            format!("media-src 'self' blob: {content}"),
            format!("frame-src 'self' {content}"),
            format!("connect-src 'self' {connect}"),
            "object-src 'none'".to_owned(),
            "base-uri 'none'".to_owned(),
            "form-action 'self'".to_owned(),
            "frame-ancestors 'none'".to_owned(),
        ];
        directives
            .map(|directive| directive.split_whitespace().collect::<Vec<_>>().join(" "))
            .join("; ")
    }

    /// Where browsers reach the bucket (presigned URLs): the endpoint's origin, with the
    /// bucket as a subdomain unless path-style; AWS's regional host when no endpoint is set.
    fn bucket_origin(&self) -> Option<String> {
        let bucket = self.s3_bucket.as_deref()?;
        let Some(endpoint) = self.s3_endpoint.as_deref() else {
            return Some(format!("https://{bucket}.s3.{}.amazonaws.com", self.s3_region));
        };
        let origin = origin(endpoint)?;
        if self.s3_path_style {
            return Some(origin);
        }
        let (scheme, host) = origin.split_once("://")?;
        Some(format!("{scheme}://{bucket}.{host}"))
    }
}

/// `scheme://host[:port]` of a normalized http(s) URL; `None` for an empty one.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next().filter(|host| !host.is_empty())?;
    Some(format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_allows_only_our_origin_and_the_nonce() {
        let policy = Config::default().page_policy("abc123", false);
        assert!(policy.starts_with("default-src 'self'; script-src 'self' 'nonce-abc123'"));
        let script = policy.split("; ").find(|d| d.starts_with("script-src ")).unwrap();
        assert!(!script.contains("'unsafe-inline'") && !script.contains("'unsafe-eval'"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(policy.contains("connect-src 'self';"), "{policy}");
    }

    #[test]
    fn named_origins_are_allowed_where_browsers_use_them() {
        let config = Config {
            assets_base_url: "https://cdn.example.com/pannier".into(),
            user_content_url: Some("https://usercontent.example.com".into()),
            s3_bucket: Some("files".into()),
            s3_endpoint: Some("https://s3.example.net:9000".into()),
            s3_presigned_downloads: true,
            s3_direct_uploads: true,
            ..Config::default()
        };
        let policy = config.page_policy("n", true);
        assert!(policy.contains("script-src 'self' https://cdn.example.com 'nonce-n'"), "{policy}");
        assert!(policy.contains(
            "img-src 'self' data: blob: https://usercontent.example.com https://files.s3.example.net:9000"
        ));
        assert!(policy.contains(
            "connect-src 'self' https://cdn.example.com https://files.s3.example.net:9000 ws:"
        ));
        let path_style = Config { s3_path_style: true, ..config };
        assert!(
            path_style.page_policy("n", false).contains(
                "connect-src 'self' https://cdn.example.com https://s3.example.net:9000;"
            )
        );
    }
}
