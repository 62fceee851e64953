//! The catalogue of data services: the province's own (answered by the suite's services) and
//! the national ones of the national exchange's catalogue (answered through NDXP).

use std::sync::LazyLock;

use sandbox06_proto::{lgsp as pb, types::DataClassification};

/// The citizen check of the province's own citizen service.
pub const CITIZEN_VERIFY: &str = "lgsp.citizen.verify";
/// The province's daily lodging counts, from the lodging service's events.
pub const LODGING_COUNT: &str = "lgsp.lodging.daily-count";

/// Who answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    /// The suite's citizen service, through the edge.
    Citizen,
    /// The platform's own counts of the lodging service's events.
    Lodging,
    /// A national service, through NDXP.
    National,
}

/// A data service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataService {
    /// Code.
    pub code: &'static str,
    /// Name.
    pub name: &'static str,
    /// Owner's electronic identifier.
    pub owner_code: &'static str,
    /// Owner's name.
    pub owner_name: &'static str,
    /// Classification.
    pub classification: DataClassification,
    /// Who answers.
    pub provider: Provider,
    /// The request field of `ExchangeRequest` it reads.
    pub request_field: &'static str,
    /// Request message.
    pub request_type: &'static str,
    /// Response message.
    pub response_type: &'static str,
}

impl DataService {
    /// As the contract shows it.
    pub fn to_proto(&self) -> pb::DataService {
        pb::DataService {
            code: self.code.to_owned(),
            name: self.name.to_owned(),
            owner_agency_code: self.owner_code.to_owned(),
            owner_agency_name: self.owner_name.to_owned(),
            classification: self.classification as i32,
            provider: match self.provider {
                Provider::Citizen | Provider::Lodging => pb::ProviderKind::Local,
                Provider::National => pb::ProviderKind::National,
            } as i32,
            provider_name: match self.provider {
                Provider::Citizen => "Dịch vụ công dân của tỉnh (sandbox06.citizen.v1)",
                Provider::Lodging => {
                    "Thông báo lưu trú của tỉnh (sự kiện của sandbox06.lodging.v1)"
                }
                Provider::National => "Nền tảng chia sẻ dữ liệu quốc gia (NDXP)",
            }
            .to_owned(),
            request_field: self.request_field.to_owned(),
            request_type: self.request_type.to_owned(),
            response_type: self.response_type.to_owned(),
        }
    }
}

/// Every data service, by code.
pub static CATALOGUE: LazyLock<Vec<DataService>> = LazyLock::new(|| {
    let mut all: Vec<DataService> = sandbox06_ndxp::CATALOGUE
        .iter()
        .map(|s| DataService {
            code: s.code,
            name: s.name,
            owner_code: s.owner_code,
            owner_name: s.owner_name,
            classification: s.classification,
            provider: Provider::National,
            request_field: s.request_field,
            request_type: s.request_type,
            response_type: s.response_type,
        })
        .collect();
    all.push(DataService {
        code: CITIZEN_VERIFY,
        name: "Xác thực thông tin công dân",
        owner_code: "000.05.34.H34",
        owner_name: "Công an tỉnh Khánh Hòa",
        classification: DataClassification::Personal,
        provider: Provider::Citizen,
        request_field: "citizen_verify",
        request_type: "sandbox06.citizen.v1.VerifyCitizenRequest",
        response_type: "sandbox06.citizen.v1.VerifyCitizenResponse",
    });
    all.push(DataService {
        code: LODGING_COUNT,
        name: "Số lượt lưu trú theo ngày của tỉnh",
        owner_code: "000.05.34.H34",
        owner_name: "Công an tỉnh Khánh Hòa",
        classification: DataClassification::Shared,
        provider: Provider::Lodging,
        request_field: "lodging_count",
        request_type: "sandbox06.lgsp.v1.LodgingCountRequest",
        response_type: "sandbox06.lgsp.v1.LodgingCountResponse",
    });
    all.sort_by_key(|s| s.code);
    all
});

/// The service with this code.
pub fn service(code: &str) -> Option<&'static DataService> {
    CATALOGUE.iter().find(|s| s.code == code)
}
