//! The mock of the national data exchange platform (NDXP): the national catalogue of data
//! services and the routing of each exchange to the one that owns the data
//! (`sandbox06.upstream.ndxp.v1`). A province's platform (the LGSP) reaches the national
//! services only through it.
//!
//! Behind it, the national services answer from the population database (over its gRPC API,
//! so every recorded life event shows): the health insurance check of Vietnam Social Security
//! ([`health`]), the civil status registry and the judicial records of the Ministry of Justice
//! ([`justice`]), the electronic health book of the Ministry of Health ([`health_book`]), and
//! the population statistics of the General Statistics Office (the
//! database's census counts). Nothing is stored: the same country and events give the same
//! answers.

pub mod component;
mod error;
pub mod health;
pub mod health_book;
pub mod justice;

use sandbox06_proto::{
    ndxp::{self as pb, exchange_request::Request as Typed, exchange_response::Result as Answer},
    population::{self as pop, population_service_client::PopulationServiceClient},
    types::{self, DataClassification},
};
use sandbox06_runtime::{
    PeerChannel,
    clock::{Clock, timestamp_to_proto},
    telemetry::TraceContextInterceptor,
};
use sandbox06_vn::{FieldError, FieldErrorKind, printable_token};
use tonic::{Code, Request, Response, Status, service::interceptor::InterceptedService};

pub use error::{NdxpError, NdxpReason, REASONS};

/// A national data service of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct NationalService {
    /// Its code.
    pub code: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Electronic identifier of the owner agency.
    pub owner_code: &'static str,
    /// Name of the owner agency.
    pub owner_name: &'static str,
    /// How sensitive its data are.
    pub classification: DataClassification,
    /// The request field of `ExchangeRequest` it reads.
    pub request_field: &'static str,
    /// Full name of the request message.
    pub request_type: &'static str,
    /// Full name of the response message.
    pub response_type: &'static str,
}

/// Vietnam Social Security, in the catalogue (an identifier of the sandbox, in the format of
/// QCVN 102:2016).
const VSS: (&str, &str) = ("000.00.00.G24", "Bảo hiểm xã hội Việt Nam");
/// The Ministry of Justice.
const MOJ: (&str, &str) = ("000.00.00.G14", "Bộ Tư pháp");
/// The Ministry of Health.
const MOH: (&str, &str) = ("000.00.00.G13", "Bộ Y tế");
/// The General Statistics Office.
const GSO: (&str, &str) = ("000.00.00.G08", "Tổng cục Thống kê");

/// Health insurance check.
pub const HEALTH_INSURANCE_CHECK: &str = "vss.health-insurance.check";
/// Marital status.
pub const MARITAL_STATUS: &str = "moj.civil-status.marital";
/// Birth registration.
pub const BIRTH_REGISTRATION: &str = "moj.civil-status.birth";
/// Death registration.
pub const DEATH_REGISTRATION: &str = "moj.civil-status.death";
/// Judicial record check.
pub const JUDICIAL_RECORD: &str = "moj.judicial-record.check";
/// Electronic health book.
pub const HEALTH_BOOK: &str = "moh.health-book";
/// Population statistics.
pub const POPULATION_STATISTICS: &str = "gso.population.statistics";

/// The national catalogue, by code.
pub const CATALOGUE: &[NationalService] = &[
    NationalService {
        code: BIRTH_REGISTRATION,
        name: "Tra cứu đăng ký khai sinh",
        owner_code: MOJ.0,
        owner_name: MOJ.1,
        classification: DataClassification::Personal,
        request_field: "citizen",
        request_type: "sandbox06.types.v1.CitizenQuery",
        response_type: "sandbox06.types.v1.BirthRegistrationResponse",
    },
    NationalService {
        code: DEATH_REGISTRATION,
        name: "Tra cứu đăng ký khai tử",
        owner_code: MOJ.0,
        owner_name: MOJ.1,
        classification: DataClassification::Personal,
        request_field: "citizen",
        request_type: "sandbox06.types.v1.CitizenQuery",
        response_type: "sandbox06.types.v1.DeathRegistrationResponse",
    },
    NationalService {
        code: MARITAL_STATUS,
        name: "Tra cứu tình trạng hôn nhân",
        owner_code: MOJ.0,
        owner_name: MOJ.1,
        classification: DataClassification::Personal,
        request_field: "citizen",
        request_type: "sandbox06.types.v1.CitizenQuery",
        response_type: "sandbox06.types.v1.MaritalStatusResponse",
    },
    NationalService {
        code: JUDICIAL_RECORD,
        name: "Tra cứu lý lịch tư pháp",
        owner_code: MOJ.0,
        owner_name: MOJ.1,
        classification: DataClassification::Sensitive,
        request_field: "judicial_record",
        request_type: "sandbox06.types.v1.JudicialRecordRequest",
        response_type: "sandbox06.types.v1.JudicialRecordResponse",
    },
    NationalService {
        code: HEALTH_BOOK,
        name: "Sổ sức khỏe điện tử",
        owner_code: MOH.0,
        owner_name: MOH.1,
        classification: DataClassification::Sensitive,
        request_field: "citizen",
        request_type: "sandbox06.types.v1.CitizenQuery",
        response_type: "sandbox06.types.v1.HealthBookResponse",
    },
    NationalService {
        code: POPULATION_STATISTICS,
        name: "Thống kê dân số",
        owner_code: GSO.0,
        owner_name: GSO.1,
        classification: DataClassification::Open,
        request_field: "population_statistics",
        request_type: "sandbox06.types.v1.PopulationStatisticsRequest",
        response_type: "sandbox06.types.v1.PopulationStatisticsResponse",
    },
    NationalService {
        code: HEALTH_INSURANCE_CHECK,
        name: "Tra cứu thẻ bảo hiểm y tế",
        owner_code: VSS.0,
        owner_name: VSS.1,
        classification: DataClassification::Sensitive,
        request_field: "health_insurance_check",
        request_type: "sandbox06.types.v1.HealthInsuranceCheckRequest",
        response_type: "sandbox06.types.v1.HealthInsuranceCheckResponse",
    },
];

/// The catalogue's service with this code.
pub fn national_service(code: &str) -> Option<&'static NationalService> {
    CATALOGUE.iter().find(|s| s.code == code)
}

/// Longest transaction id.
const MAX_TRANSACTION_ID: usize = 128;

/// The population database over gRPC, continuing the caller's trace.
#[derive(Debug, Clone)]
pub struct Population {
    client: PopulationServiceClient<InterceptedService<PeerChannel, TraceContextInterceptor>>,
}

impl Population {
    /// A client over `channel`.
    pub fn new(channel: impl Into<PeerChannel>) -> Self {
        Self {
            client: PopulationServiceClient::with_interceptor(
                channel.into(),
                TraceContextInterceptor,
            ),
        }
    }

    /// The full record of the citizen with this number; `None` when no one has it.
    pub async fn citizen(&self, citizen_id: &str) -> Result<Option<pop::Citizen>, NdxpError> {
        let request = pop::GetCitizenRequest {
            citizen_id: citizen_id.to_owned(),
            view: pop::RecordView::Full as i32,
        };
        match self.client.clone().get_citizen(request).await {
            Ok(r) => Ok(r.into_inner().citizen),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(passed_on(s)),
        }
    }

    /// The holders of a social insurance number, born in `birth_year` (0: any year).
    pub async fn insured(
        &self,
        number: &str,
        birth_year: i32,
    ) -> Result<Vec<pop::Citizen>, NdxpError> {
        let request = pop::FindInsuredCitizensRequest {
            social_insurance_number: number.to_owned(),
            birth_year,
        };
        match self.client.clone().find_insured_citizens(request).await {
            Ok(r) => Ok(r.into_inner().citizens),
            Err(s) => Err(passed_on(s)),
        }
    }

    /// Population statistics.
    pub async fn statistics(
        &self,
        request: types::PopulationStatisticsRequest,
    ) -> Result<types::PopulationStatisticsResponse, NdxpError> {
        self.client
            .clone()
            .get_population_statistics(request)
            .await
            .map(Response::into_inner)
            .map_err(passed_on)
    }
}

/// A failure of the population database: a refused field is the caller's (the request passed
/// on as it came), anything else the database's.
fn passed_on(status: Status) -> NdxpError {
    if status.code() == Code::InvalidArgument {
        use tonic_types::StatusExt as _;
        let violation = status
            .get_details_bad_request()
            .and_then(|b| b.field_violations.into_iter().next());
        let (field, description) = violation.map_or_else(
            || (String::new(), status.message().to_owned()),
            |v| (v.field, v.description),
        );
        NdxpError::Field(FieldError::new(FieldErrorKind::Other, field, description))
    } else {
        NdxpError::Population(status)
    }
}

/// The NDXP mock.
#[derive(Debug, Clone)]
pub struct Ndxp {
    population: Population,
    clock: Clock,
}

impl Ndxp {
    /// NDXP in front of the population database, judging validity by `clock`.
    pub fn new(population: Population, clock: Clock) -> Self {
        Self { population, clock }
    }

    /// One exchange: the request routed to its service, the service's answer.
    pub async fn exchange(
        &self,
        req: pb::ExchangeRequest,
    ) -> Result<pb::ExchangeResponse, NdxpError> {
        let service = national_service(&req.service_code)
            .ok_or_else(|| NdxpError::ServiceNotFound(req.service_code.clone()))?;
        printable_token(
            &req.requester_agency_code,
            "requester_agency_code",
            64,
            true,
        )?;
        printable_token(
            &req.transaction_id,
            "transaction_id",
            MAX_TRANSACTION_ID,
            true,
        )?;
        let mismatch = || NdxpError::RequestMismatch {
            service: service.code,
            expected: service.request_field,
        };
        let today = self.clock.today();
        let population = &self.population;
        let answer = match (service.code, req.request) {
            (HEALTH_INSURANCE_CHECK, Some(Typed::HealthInsuranceCheck(r))) => {
                Answer::HealthInsuranceCheck(health::check(population, r, today).await?)
            }
            (MARITAL_STATUS, Some(Typed::Citizen(r))) => {
                Answer::MaritalStatus(justice::marital_status(population, &r.citizen_id).await?)
            }
            (BIRTH_REGISTRATION, Some(Typed::Citizen(r))) => Answer::BirthRegistration(
                justice::birth_registration(population, &r.citizen_id).await?,
            ),
            (DEATH_REGISTRATION, Some(Typed::Citizen(r))) => Answer::DeathRegistration(
                justice::death_registration(population, &r.citizen_id).await?,
            ),
            (JUDICIAL_RECORD, Some(Typed::JudicialRecord(r))) => {
                Answer::JudicialRecord(justice::judicial_record(population, r, today).await?)
            }
            (HEALTH_BOOK, Some(Typed::Citizen(r))) => Answer::HealthBook(
                health_book::health_book(population, &r.citizen_id, today).await?,
            ),
            (POPULATION_STATISTICS, Some(Typed::PopulationStatistics(r))) => {
                Answer::PopulationStatistics(population.statistics(r).await?)
            }
            _ => return Err(mismatch()),
        };
        Ok(pb::ExchangeResponse {
            exchange_id: format!(
                "NDXP-{}",
                exchange_number(service.code, &req.transaction_id)
            ),
            transaction_id: req.transaction_id,
            service_code: service.code.to_owned(),
            answered_at: Some(timestamp_to_proto(self.clock.now())),
            result: Some(answer),
        })
    }
}

/// NDXP's number of an exchange: a hash of the service and the requester's transaction id, so
/// a retried exchange carries the same number.
fn exchange_number(service: &str, transaction: &str) -> String {
    format!(
        "{:016X}",
        justice::hash(&[service.as_bytes(), transaction.as_bytes()])
    )
}

#[tonic::async_trait]
impl pb::ndxp_service_server::NdxpService for Ndxp {
    async fn list_national_services(
        &self,
        _request: Request<pb::ListNationalServicesRequest>,
    ) -> Result<Response<pb::ListNationalServicesResponse>, Status> {
        let services = CATALOGUE
            .iter()
            .map(|s| pb::NationalService {
                code: s.code.to_owned(),
                name: s.name.to_owned(),
                owner_agency_code: s.owner_code.to_owned(),
                owner_agency_name: s.owner_name.to_owned(),
                classification: s.classification as i32,
                request_type: s.request_type.to_owned(),
                response_type: s.response_type.to_owned(),
            })
            .collect();
        Ok(Response::new(pb::ListNationalServicesResponse { services }))
    }

    async fn exchange(
        &self,
        request: Request<pb::ExchangeRequest>,
    ) -> Result<Response<pb::ExchangeResponse>, Status> {
        self.exchange(request.into_inner())
            .await
            .map(Response::new)
            .map_err(Status::from)
    }
}
