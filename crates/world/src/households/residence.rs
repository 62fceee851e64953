//! Where a household lives: the head's commune and street.

use sandbox06_vn::CitizenId;

use crate::{
    Country, S_HOME,
    names::STREETS,
    permutation::Stream,
    person::{CommuneRef, Place},
};

impl Country {
    pub(crate) fn own_home(&self, id: CitizenId, birth_province: usize) -> Place {
        let mut rng = self.stream(S_HOME, id);
        let units = self.units;
        let province = if rng.chance(0.85) {
            birth_province
        } else {
            // Migration concentrates on the southern industrial hubs and the two cities.
            let hubs: [(u16, f64); 5] = [(79, 5.0), (1, 3.0), (74, 3.0), (75, 1.5), (48, 1.0)];
            let code = rng.weighted(&hubs);
            units.province_position(code).unwrap_or(birth_province)
        };
        let p = &units.provinces[province];
        let span = u64::from(p.communes.end - p.communes.start).max(1);
        let commune = p.communes.start + rng.below(span) as u32;
        Place {
            commune: CommuneRef::Pre2025(commune),
            street: self.street(&mut rng, commune),
        }
    }

    pub(crate) fn street(&self, rng: &mut Stream, commune: u32) -> String {
        let c = &self.units.communes[commune as usize];
        if c.name.starts_with("Xã") {
            if c.province >= 70 {
                format!("Ấp {}", 1 + rng.below(9))
            } else {
                format!("Thôn {}", 1 + rng.below(12))
            }
        } else if rng.chance(0.5) {
            format!("Số {} đường {}", 1 + rng.below(300), rng.pick(STREETS))
        } else {
            format!("Tổ {}, Khu phố {}", 1 + rng.below(20), 1 + rng.below(8))
        }
    }
}
