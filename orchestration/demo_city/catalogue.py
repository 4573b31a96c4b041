"""What the demo city is made of: its call types, offences, 311 services, budget programs.

These tables are the generator's own truth. The warehouse does not read them: it reads the
files the generator writes and the seeds in ``seeds/``, and the tests check that the marts
recover the shares planted here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallType:
    code: str
    description: str
    weight: float  # relative frequency among all CAD events
    criminal: bool
    alternative: str  # responder that could take it instead of police ("none" if none)
    officer_initiated: bool
    priorities: tuple[float, float, float, float]  # P(priority 1..4)
    minutes_on_scene: float  # mean time from arrival to clear
    category: str


# Weights are percentages of all CAD events; they sum to 100.
CALL_TYPES: tuple[CallType, ...] = (
    # officer-initiated work (30 % of events)
    CallType("TSTOP", "TRAFFIC STOP", 14.0, False, "none", True, (0, 0, 0.3, 0.7), 14, "traffic"),
    CallType("SSTOP", "SUBJECT STOP", 5.0, False, "none", True, (0, 0.2, 0.5, 0.3), 18, "suspicious"),
    CallType(
        "BCHK",
        "BUSINESS CHECK",
        6.0,
        False,
        "none",
        True,
        (0, 0, 0, 1),
        9,
        "proactive_administrative",
    ),
    CallType(
        "PATROL",
        "DIRECTED PATROL",
        5.0,
        False,
        "none",
        True,
        (0, 0, 0, 1),
        25,
        "proactive_administrative",
    ),
    # violent crime (4 %)
    CallType("ASLT", "ASSAULT", 1.6, True, "none", False, (0.5, 0.4, 0.1, 0), 55, "violent_crime"),
    CallType(
        "DVASLT",
        "DOMESTIC VIOLENCE",
        1.4,
        True,
        "none",
        False,
        (0.6, 0.4, 0, 0),
        70,
        "violent_crime",
    ),
    CallType("ROBB", "ROBBERY", 0.5, True, "none", False, (0.7, 0.3, 0, 0), 80, "violent_crime"),
    CallType("SHOTS", "SHOTS FIRED", 0.5, True, "none", False, (0.9, 0.1, 0, 0), 40, "violent_crime"),
    # property and other crime (13 %)
    CallType("BURG", "BURGLARY", 3.0, True, "none", False, (0.1, 0.5, 0.4, 0), 60, "property_crime"),
    CallType(
        "THEFT",
        "THEFT REPORT",
        4.5,
        True,
        "311_administrative",
        False,
        (0, 0.1, 0.5, 0.4),
        35,
        "property_crime",
    ),
    CallType(
        "AUTOTH",
        "STOLEN VEHICLE",
        2.0,
        True,
        "none",
        False,
        (0, 0.3, 0.5, 0.2),
        40,
        "property_crime",
    ),
    CallType(
        "VANDAL",
        "VANDALISM",
        2.0,
        True,
        "311_administrative",
        False,
        (0, 0, 0.5, 0.5),
        30,
        "property_crime",
    ),
    CallType(
        "DRUGS",
        "NARCOTICS COMPLAINT",
        1.5,
        True,
        "none",
        False,
        (0, 0.3, 0.5, 0.2),
        45,
        "other_crime",
    ),
    # traffic (10 %)
    CallType("ACCPI", "ACCIDENT WITH INJURY", 2.0, False, "none", False, (0.6, 0.4, 0, 0), 60, "traffic"),
    CallType(
        "ACCPDO",
        "ACCIDENT PROPERTY DAMAGE",
        5.0,
        False,
        "civilian_traffic_unit",
        False,
        (0, 0.2, 0.6, 0.2),
        40,
        "traffic",
    ),
    CallType(
        "PARK",
        "PARKING COMPLAINT",
        3.0,
        False,
        "civilian_traffic_unit",
        False,
        (0, 0, 0.2, 0.8),
        15,
        "traffic",
    ),
    # mental health, welfare, medical (13 %)
    CallType(
        "WELF",
        "WELFARE CHECK",
        5.5,
        False,
        "mental_health_crisis_team",
        False,
        (0.1, 0.4, 0.4, 0.1),
        45,
        "mental_health_welfare",
    ),
    CallType(
        "MHCRIS",
        "MENTAL HEALTH CRISIS",
        3.0,
        False,
        "mental_health_crisis_team",
        False,
        (0.3, 0.5, 0.2, 0),
        75,
        "mental_health_welfare",
    ),
    CallType("MED", "MEDICAL ASSIST", 3.0, False, "none", False, (0.5, 0.4, 0.1, 0), 30, "medical"),
    CallType(
        "HOMELS",
        "HOMELESS PERSON",
        1.5,
        False,
        "community_navigator",
        False,
        (0, 0.1, 0.5, 0.4),
        30,
        "mental_health_welfare",
    ),
    # disorder / quality of life (12 %)
    CallType(
        "NOISE",
        "NOISE COMPLAINT",
        5.0,
        False,
        "community_navigator",
        False,
        (0, 0, 0.3, 0.7),
        20,
        "disorder_quality_of_life",
    ),
    CallType(
        "DISTRB",
        "DISTURBANCE",
        4.0,
        False,
        "none",
        False,
        (0.1, 0.5, 0.4, 0),
        35,
        "disorder_quality_of_life",
    ),
    CallType(
        "JUV",
        "JUVENILE TROUBLE",
        3.0,
        False,
        "community_navigator",
        False,
        (0, 0.2, 0.6, 0.2),
        30,
        "disorder_quality_of_life",
    ),
    # alarms, suspicious, admin (18 %)
    CallType("ALARM", "BURGLAR ALARM", 6.0, False, "none", False, (0, 0.2, 0.6, 0.2), 15, "alarm"),
    CallType("SUSP", "SUSPICIOUS PERSON", 6.0, False, "none", False, (0, 0.4, 0.5, 0.1), 25, "suspicious"),
    CallType(
        "FOLLOW",
        "FOLLOW UP",
        3.0,
        False,
        "311_administrative",
        False,
        (0, 0, 0.2, 0.8),
        30,
        "proactive_administrative",
    ),
    CallType(
        "INFO",
        "INFORMATION REQUEST",
        3.0,
        False,
        "311_administrative",
        False,
        (0, 0, 0, 1),
        10,
        "proactive_administrative",
    ),
)


@dataclass(frozen=True)
class Offence:
    code: str
    description: str
    category: str  # NIBRS crimes against: persons / property / society
    # the city's own violent flag, as its file carries it: like many cities', it counts simple
    # assault (the warehouse counts the FBI's violent crimes from the code, simple assault apart).
    # Violent offences are placed with the violent-crime weights, so the hot spot holds all assaults.
    violent: bool
    weight: float
    arrest_rate: float


OFFENCES: tuple[Offence, ...] = (
    Offence("13A", "AGGRAVATED ASSAULT", "persons", True, 7, 0.35),
    Offence("13B", "SIMPLE ASSAULT", "persons", True, 10, 0.30),
    Offence("120", "ROBBERY", "property", True, 4, 0.20),
    Offence("09A", "MURDER AND NONNEGLIGENT MANSLAUGHTER", "persons", True, 0.3, 0.60),
    Offence("11A", "RAPE", "persons", True, 0.7, 0.25),
    Offence("220", "BURGLARY/BREAKING AND ENTERING", "property", False, 12, 0.08),
    Offence("23H", "ALL OTHER LARCENY", "property", False, 25, 0.10),
    Offence("240", "MOTOR VEHICLE THEFT", "property", False, 9, 0.07),
    Offence("290", "DESTRUCTION/DAMAGE/VANDALISM OF PROPERTY", "property", False, 14, 0.06),
    Offence("35A", "DRUG/NARCOTIC VIOLATIONS", "society", False, 8, 0.70),
    Offence("520", "WEAPON LAW VIOLATIONS", "society", False, 3, 0.65),
    Offence("90D", "DRIVING UNDER THE INFLUENCE", "society", False, 7, 0.95),
)

SERVICE_REQUEST_TYPES: tuple[tuple[str, float], ...] = (
    ("Pothole", 16),
    ("Streetlight Out", 10),
    ("Graffiti Removal", 9),
    ("Illegal Dumping", 9),
    ("Abandoned Vehicle", 8),
    ("Noise Complaint", 8),
    ("Homeless Encampment", 6),
    ("Rodent Baiting", 6),
    ("Tree Trimming", 6),
    ("Missed Garbage Pickup", 10),
    ("Housing Assistance (211)", 6),
    ("Mental Health Referral (211)", 6),
)

# (department, program, service area, budgeted FY2025 in dollars, FTE)
BUDGET_PROGRAMS: tuple[tuple[str, str, str, float, float], ...] = (
    ("Police", "Patrol", "police", 142_000_000, 980),
    ("Police", "Investigations", "police", 48_000_000, 310),
    ("Police", "Traffic Enforcement", "police", 14_000_000, 90),
    ("Police", "911 Communications", "police", 19_000_000, 160),
    ("Fire", "Fire Suppression", "fire", 96_000_000, 620),
    ("Fire", "Emergency Medical Services", "ems", 41_000_000, 280),
    ("Health", "Mental Health Crisis Response", "alternative_response", 6_500_000, 48),
    ("Neighborhood Services", "Community Navigators", "alternative_response", 3_200_000, 30),
    ("Neighborhood Services", "Violence Interruption", "community_programs", 4_800_000, 36),
    ("Neighborhood Services", "Youth Employment", "community_programs", 3_000_000, 12),
)

RACES = ("white", "black", "hispanic", "asian/pacific islander", "other")
RACE_SHARES = (0.42, 0.31, 0.19, 0.05, 0.03)
STREETS = (
    "MAIN ST",
    "OAK AVE",
    "LAKE SHORE DR",
    "W MADISON ST",
    "N CENTRAL AVE",
    "ELM ST",
    "S PARK BLVD",
    "RIVER RD",
    "E 12TH ST",
    "W 35TH ST",
    "HARBOR WAY",
    "MILL ST",
)
