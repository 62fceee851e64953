//! What the path of a gRPC call names.

/// `(service, method)` of a gRPC path `/package.Service/Method`.
pub fn split_grpc_path(path: &str) -> Option<(&str, &str)> {
    split_method_name(path.strip_prefix('/')?)
}

/// `(service, method)` of a full method name `package.Service/Method`.
fn split_method_name(name: &str) -> Option<(&str, &str)> {
    let (service, method) = name.split_once('/')?;
    if service.is_empty() || method.is_empty() || method.contains('/') {
        return None;
    }
    Some((service, method))
}

/// The method of the contract (`sandbox06_proto::DESCRIPTOR_POOL`) that the gRPC path
/// `/package.Service/Method` names; the leading slash may be left out. The one lookup of a
/// path's method, for the fault layer and the edge's journal alike.
pub fn contract_method(path: &str) -> Option<prost_reflect::MethodDescriptor> {
    let (service, method) = split_method_name(path.trim_start_matches('/'))?;
    sandbox06_proto::DESCRIPTOR_POOL
        .get_service_by_name(service)?
        .methods()
        .find(|m| m.name() == method)
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

    #[test]
    fn finds_the_method_of_the_contract_a_path_names() {
        let path = "/sandbox06.upstream.population.v1.PopulationService/GetCitizen";
        for named in [path, &path[1..]] {
            let method = contract_method(named).expect(named);
            assert_eq!(
                method.full_name(),
                "sandbox06.upstream.population.v1.PopulationService.GetCitizen"
            );
        }
        for unknown in [
            "/sandbox06.upstream.population.v1.PopulationService/Nope",
            "/sandbox06.upstream.population.v1.PopulationService",
            "/sandbox06.upstream.population.v1.PopulationService/GetCitizen/x",
            "/no.Such/Method",
            "",
        ] {
            assert!(contract_method(unknown).is_none(), "{unknown}");
        }
    }
}
