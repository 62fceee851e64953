//! What the path of a gRPC call names.

/// `(service, method)` of a gRPC path `/package.Service/Method`.
pub fn split_grpc_path(path: &str) -> Option<(&str, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    if service.is_empty() || method.is_empty() || method.contains('/') {
        return None;
    }
    Some((service, method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_grpc_paths() {
        assert_eq!(
            split_grpc_path("/sandbox06.citizen.v1.CitizenService/VerifyCitizen"),
            Some(("sandbox06.citizen.v1.CitizenService", "VerifyCitizen"))
        );
        assert_eq!(split_grpc_path("/nope"), None);
        assert_eq!(split_grpc_path("/a/b/c"), None);
        assert_eq!(split_grpc_path("a/b"), None);
    }
}
