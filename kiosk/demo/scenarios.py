"""The demo's scenarios: which passport, who stands at the camera, what the lists say, and the
decision and reasons a correct e-gate must reach.

Every defective passport profile (``hardware.sim.profiles``) is a scenario of its own; its
expected reason follows from the check the profile says must fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hardware.sim.profiles import shipped_profiles

# The live photo of each chip photo's person (another picture of the same face). The
# Barbados profile's face (kit_1) is not frontal enough for the capture rules in any other
# photo of the set, so no demo scenario uses that passport.
LIVE_FACE = {
    "rose_1.jpg": "rose_2.jpg",
    "lin_1.jpg": "lin_1.jpg",
    "alex_2.jpg": "alex_3.jpg",
    "biden_1.jpg": "biden_2.jpg",
}

# failed check of a document -> the policy's reason (Frontex ABC categories)
REASON_OF_CHECK = {
    "access_control": "chip_anomaly",
    "document_readable": "chip_anomaly",
    "sod_signature": "authentication_failed",
    "chain": "authentication_failed",
    "revocation": "authentication_failed",
    "hashes": "authentication_failed",
    "active_authentication": "clone_suspected",
    "chip_authentication": "clone_suspected",
    "mrz_consistency": "authentication_failed",
    "issuer_consistency": "authentication_failed",
    "expiry": "expired_document",
}


@dataclass(frozen=True)
class Member:
    """One member of a family scenario: their passport, and who faces the camera."""

    profile: str
    live_face: str | None = None  # None: the chip photo's person


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    profile: str
    expected_decision: str
    expected_reasons: tuple[str, ...] = ()
    scene: str = "traveller"
    live_face: str | None = None  # None: the chip photo's person
    lost_stolen: bool = False
    watchlist: bool = False
    # None: no manifest; "with" / "without" the traveller; "vetted-cleared" /
    # "vetted-referred": on the manifest as the central server vetted it
    manifest: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    # what happens to the transaction (kiosk.demo.disturbances), and how it must end
    disturbance: str | None = None
    expected_outcome: str | None = None  # a kiosk.session.steps.Outcome value
    # A family transaction (kiosk.session.family): the members' passports are placed one
    # after another when the screen asks for the next one; ``profile`` is the first's.
    members: tuple[Member, ...] = ()
    # [policy] settings of the scenario's deployment (over the demo's configuration)
    policy: dict[str, object] = field(default_factory=dict)


def _genuine(name: str, profile: str, description: str) -> Scenario:
    return Scenario(name, description, profile, "accept")


BASE: list[Scenario] = [
    _genuine("genuine-traveller", "lca-genuine", "A Saint Lucian adult with a genuine passport"),
    _genuine("genuine-tto", "tto-genuine", "Trinidad and Tobago passport, RSA-PSS signatures"),
    _genuine("genuine-jam", "jam-genuine", "Jamaica passport, RSA PKCS#1 v1.5 signatures"),
    _genuine("genuine-guy", "guy-genuine", "Guyana passport, P-521 CSCA, RSA signer"),
    Scenario(
        "expected-on-manifest",
        "Genuine traveller who is on the passenger manifest",
        "lca-genuine",
        "accept",
        manifest="with",
    ),
    Scenario(
        "impostor",
        "Someone else presents a genuine passport",
        "lca-genuine",
        "refer",
        ("biometric_mismatch",),
        live_face="alex_3.jpg",
    ),
    Scenario(
        "photo-attack",
        "A printed photo of the holder held up to the camera",
        "lca-genuine",
        "refer",
        ("liveness_failed",),
        scene="printed_photo",
    ),
    Scenario(
        "moved-photo-attack",
        "A photo of the holder moved in front of the camera",
        "lca-genuine",
        "refer",
        ("liveness_failed",),
        scene="moved_photo",
    ),
    Scenario(
        "screen-replay",
        "A photo of the holder shown on a screen",
        "lca-genuine",
        "refer",
        ("liveness_failed",),
        scene="screen_replay",
    ),
    Scenario(
        "lost-stolen",
        "The passport is on the lost and stolen list",
        "lca-genuine",
        "refer",
        ("lost_or_stolen",),
        lost_stolen=True,
    ),
    Scenario(
        "watchlist-hit",
        "The holder's name is on the watchlist",
        "lca-genuine",
        "refer",
        ("watchlist_hit",),
        watchlist=True,
    ),
    Scenario(
        "vetted-cleared",
        "On the arriving flight's manifest, vetted and cleared before arrival",
        "lca-genuine",
        "accept",
        manifest="vetted-cleared",
    ),
    Scenario(
        "vetted-referral",
        "A flight passenger the pre-arrival vetting referred (regional watchlist hit)",
        "lca-genuine",
        "refer",
        ("vetting_referral",),
        manifest="vetted-referred",
    ),
    Scenario(
        "not-on-manifest",
        "A manifest is loaded and the traveller is not on it",
        "lca-genuine",
        "refer",
        ("not_on_manifest",),
        manifest="without",
    ),
    Scenario("minor", "A genuine passport of a twelve-year-old", "lca-minor", "refer", ("minor",)),
    Scenario(
        "nobody-at-camera",
        "The traveller walks away before the photo",
        "lca-genuine",
        "refer",
        ("biometric_mismatch", "liveness_failed"),
        scene="nobody",
    ),
]


# The traveller and the doors (issue 20, item 5): each ends as its outcome says.
PASSAGE: list[Scenario] = [
    Scenario(
        "mantrap",
        "Genuine traveller: the entry door closes behind them before the exit opens",
        "lca-genuine",
        "accept",
        expected_outcome="accepted",
    ),
    Scenario(
        "passport-removed",
        "The traveller takes the passport off the reader before the decision",
        "lca-genuine",
        "none",
        disturbance="passport_removed",
        expected_outcome="passport_removed",
    ),
    Scenario(
        "tailgating",
        "A second person follows the accepted traveller into the gate",
        "lca-genuine",
        "refer",
        ("tailgating",),
        disturbance="tailgating",
        expected_outcome="tailgating",
    ),
    Scenario(
        "gate-fault",
        "The gate's board fails to close the entry door behind the traveller",
        "lca-genuine",
        "refer",
        ("system_malfunction",),
        disturbance="gate_fault",
        expected_outcome="gate_fault",
    ),
    Scenario(
        "passage-timeout",
        "The accepted traveller never steps into the gate",
        "lca-genuine",
        "refer",
        ("passage_timeout",),
        disturbance="nobody_enters",
        expected_outcome="passage_timeout",
    ),
]


# Families and accompanied minors (issue 17, item 4): a deployment that admits families of up
# to four, children from ten when an adult of the family is in the same transaction.
FAMILY_POLICY: dict[str, object] = {"family_max_members": 4, "accompanied_from_age": 10}
FAMILY: list[Scenario] = [
    Scenario(
        "family-accepted",
        "Two adults travelling together: both passports and faces checked, one passage",
        "lca-genuine",
        "accept",
        members=(Member("lca-genuine"), Member("tto-genuine")),
        policy=FAMILY_POLICY,
        expected_outcome="accepted",
    ),
    Scenario(
        "family-impostor",
        "A family whose second member presents someone else's passport: one family referral",
        "lca-genuine",
        "refer",
        ("biometric_mismatch", "family_referral"),
        members=(Member("lca-genuine"), Member("jam-genuine", live_face="lin_1.jpg")),
        policy=FAMILY_POLICY,
        expected_outcome="referred",
    ),
    Scenario(
        "minor-accompanied",
        "A twelve-year-old with a parent in the same family transaction",
        "lca-genuine",
        "accept",
        members=(Member("lca-genuine"), Member("lca-child")),
        policy=FAMILY_POLICY,
        expected_outcome="accepted",
    ),
    Scenario(
        "minor-unaccompanied",
        "A twelve-year-old alone, where children pass only accompanied: told at the passport",
        "lca-child",
        "refer",
        ("minor",),
        policy=FAMILY_POLICY,
    ),
]


def defective_scenarios() -> list[Scenario]:
    out: list[Scenario] = []
    for name, profile in shipped_profiles().items():
        if profile.defect is None:
            continue
        expected = profile.expected
        if expected.authentic and expected.failed_check is None:
            out.append(Scenario(name, profile.description, name, "accept", tags=("defect",)))
            continue
        check = expected.failed_check or "authentication"
        reason = REASON_OF_CHECK.get(check, "authentication_failed")
        out.append(Scenario(name, profile.description, name, "refer", (reason,), tags=("defect",)))
    return out


def all_scenarios() -> list[Scenario]:
    return BASE + PASSAGE + FAMILY + defective_scenarios()


def scenario(name: str) -> Scenario:
    for item in all_scenarios():
        if item.name == name:
            return item
    raise KeyError(name)
