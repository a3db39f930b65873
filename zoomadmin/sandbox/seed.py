"""Seed one realistic, deterministic sandbox account: people, departments, managers, groups.

The same arguments always produce byte-identical rows, Zoom ids included: everything comes from
two seeded RNGs instead of `secrets` and the clock. The *people* RNG depends on the seed only, so
two accounts seeded alike hold the same names, departments and hierarchy; the *id* RNG also mixes
in the email domain, so such accounts can live in one database without their globally unique Zoom
ids colliding.

Tens of thousands of users must seed in well under a minute on SQLite and PostgreSQL, so rows are
built in memory and written in bulk (users, groups, then the membership table: multi-row INSERTs,
COPY on PostgreSQL), in one transaction, with no query per row (see `_insert_rows`).
"""

from __future__ import annotations

import base64
import functools
import random
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, models, transaction

from zoomadmin.sandbox.models import Plan, Role, SandboxAccount, SandboxGroup, SandboxUser, UserStatus

INACTIVE_SHARE = 0.03
PENDING_SHARE = 0.02
ADMIN_SHARE = 0.002
MIN_ADMINS = 2
# Owner plus the two admins Zoom-admin demos need.
MIN_USERS = 1 + MIN_ADMINS
# Everyone is hired inside this window; fixed so that reseeding gives identical timestamps.
HIRING_START = datetime(2016, 3, 1, 9, 0, tzinfo=UTC)
HIRING_END = datetime(2025, 9, 30, 17, 0, tzinfo=UTC)
DEFAULT_GROUP_NAME = "All users"
# Share of users holding a Licensed seat, by plan (a free account has none).
LICENSED_SHARE = {Plan.FREE: 0.0, Plan.PRO: 0.45, Plan.BUSINESS: 0.72}

# Modest, diverse name lists; combinations repeat in big accounts, as real names do.
# fmt: off
GIVEN_NAMES = (
    "Aaliyah", "Abebe", "Adaeze", "Adrián", "Ahmed", "Aiko", "Akira", "Alejandro", "Alexei", "Amara", "Amelia",
    "Ana", "Anders", "Andrea", "Anh", "Anika", "Arjun", "Astrid", "Ayşe", "Bao", "Beatriz", "Benjamin", "Bilal",
    "Camila", "Carlos", "Catalina", "Chen", "Chidi", "Chloé", "Chloe", "Daniel", "Darius", "Deepa", "Diego",
    "Dmitri", "Elena", "Elif", "Emeka", "Emily", "Emma", "Esperanza", "Fatima", "Felipe", "Fernando", "Finn",
    "Francesca", "Gabriel", "Grace", "Hana", "Hannah", "Hassan", "Hiroshi", "Hyun-woo", "Ibrahim", "Ifeoma",
    "Ingrid", "Isabella", "Ivan", "Jamal", "James", "Jana", "Javier", "Ji-woo", "Jin", "João", "José", "Julia",
    "Kaito", "Kamala", "Karim", "Katarzyna", "Kavya", "Kenji", "Kwame", "Laila", "Lars", "Layla", "Leila", "Liam",
    "Lucas", "Lucía", "Maja", "Malik", "Maria", "Mariam", "Marta", "Mateo", "Mei", "Mehmet", "Mia", "Michael",
    "Minh", "Mohammed", "Nadia", "Naledi", "Nia", "Nikhil", "Nikolai", "Noah", "Nour", "Oliver", "Olivia", "Omar",
    "Oluwaseun", "Pablo", "Priya", "Rafael", "Rahul", "Ravi", "Rin", "Rosa", "Sakura", "Samir", "Santiago",
    "Sara", "Sebastián", "Seo-yeon", "Shreya", "Siddharth", "Sofia", "Søren", "Sun", "Tariq", "Thabo", "Thanh",
    "Tomás", "Valentina", "Vikram", "Wei", "William", "Xin", "Yara", "Yasmin", "Yerlan", "Yuki", "Yusuf",
    "Zainab", "Zanele", "Zoë", "Łukasz",
)
FAMILY_NAMES = (
    "Abdullah", "Acheampong", "Adeyemi", "Agarwal", "Ahmed", "Alvarez", "Andersen", "Anderson", "Bakker", "Banda",
    "Bauer", "Bianchi", "Brown", "Castillo", "Chatterjee", "Chen", "Cohen", "Costa", "Da Silva", "Davies",
    "de Jong", "Diallo", "Dimitrov", "Dubois", "Dvořák", "Eriksson", "Fernández", "Fischer", "Fofana", "García",
    "Ghosh", "Gomez", "González", "Gupta", "Haddad", "Hansen", "Hernández", "Hoang", "Horvat", "Hussain",
    "Ibrahim", "Ito", "Ivanova", "Jansen", "Jensen", "Johnson", "Kamau", "Kang", "Kaplan", "Kato", "Khan", "Kim",
    "Kowalski", "Kozlov", "Kumar", "Larsen", "Le", "Lee", "Li", "Lindqvist", "Liu", "Lopez", "Mahlangu", "Martin",
    "Martínez", "Mensah", "Moreau", "Morales", "Müller", "Murphy", "Nakamura", "Nasser", "Nguyen", "Novak",
    "Nowak", "Nwosu", "O'Brien", "O'Connor", "Okafor", "Okonkwo", "Oliveira", "Ortiz", "Osei", "Özdemir",
    "Papadopoulos", "Park", "Patel", "Pereira", "Petrov", "Pham", "Popescu", "Quispe", "Rahman", "Ramírez", "Rao",
    "Reddy", "Reyes", "Rossi", "Rodríguez", "Sánchez", "Santos", "Sato", "Schmidt", "Schneider", "Shah", "Sharma",
    "Silva", "Singh", "Smith", "Sokolov", "Suzuki", "Tanaka", "Taylor", "Tran", "Turner", "Van der Berg",
    "Vargas", "Wang", "Weber", "Williams", "Wilson", "Wójcik", "Wu", "Yamamoto", "Yang", "Yılmaz", "Yoon",  # noqa: RUF001
    "Zhang", "Zhao", "Zulu",
)
# fmt: on
PRONOUNS = ("she/her", "he/him", "they/them")


@dataclass(frozen=True)
class Department:
    """A department of the seeded company: its share of the staff and its job titles."""

    name: str
    weight: float
    head_title: str
    manager_title: str
    cost_center: str
    titles: tuple[str, ...]


# The Executive office comes first: the owner heads it, so even a tiny account has a populated
# department group.
# fmt: off
DEPARTMENTS = (
    Department("Executive", 0.004, "Chief Executive Officer", "Chief of Staff", "CC-100",
               ("Executive Assistant", "Chief of Staff", "Strategy Associate")),
    Department("Engineering", 0.26, "VP of Engineering", "Engineering Manager", "CC-200",
               ("Software Engineer", "Senior Software Engineer", "Staff Engineer", "QA Engineer",
                "Site Reliability Engineer", "Frontend Engineer", "Data Engineer")),
    Department("Sales", 0.15, "VP of Sales", "Sales Manager", "CC-300",
               ("Account Executive", "Enterprise Account Executive", "Sales Development Representative",
                "Solutions Engineer", "Sales Operations Analyst")),
    Department("Customer Success", 0.09, "VP of Customer Success", "Customer Success Lead", "CC-310",
               ("Customer Success Manager", "Implementation Consultant", "Onboarding Specialist")),
    Department("Support", 0.09, "Head of Support", "Support Team Lead", "CC-320",
               ("Support Engineer", "Technical Support Specialist", "Support Operations Analyst")),
    Department("Marketing", 0.07, "Chief Marketing Officer", "Marketing Manager", "CC-400",
               ("Content Marketer", "Product Marketing Manager", "Growth Marketer", "Brand Designer",
                "Events Coordinator")),
    Department("Product", 0.06, "VP of Product", "Group Product Manager", "CC-210",
               ("Product Manager", "Senior Product Manager", "Product Designer", "UX Researcher")),
    Department("Operations", 0.05, "Chief Operating Officer", "Operations Manager", "CC-500",
               ("Business Operations Analyst", "Program Manager", "Procurement Specialist")),
    Department("Finance", 0.04, "Chief Financial Officer", "Finance Manager", "CC-600",
               ("Accountant", "Financial Analyst", "Payroll Specialist", "Controller")),
    Department("IT", 0.03, "Head of IT", "IT Manager", "CC-700",
               ("IT Administrator", "Systems Engineer", "Help Desk Technician", "Network Engineer")),
    Department("People", 0.03, "Chief People Officer", "HR Manager", "CC-610",
               ("HR Business Partner", "Recruiter", "People Operations Specialist", "Learning Specialist")),
    Department("Data & Analytics", 0.03, "Head of Data", "Analytics Manager", "CC-220",
               ("Data Analyst", "Data Scientist", "Analytics Engineer")),
    Department("Security", 0.02, "Chief Information Security Officer", "Security Manager", "CC-710",
               ("Security Engineer", "Security Analyst", "GRC Specialist")),
    Department("Legal", 0.015, "General Counsel", "Legal Manager", "CC-620",
               ("Corporate Counsel", "Paralegal", "Contracts Manager")),
    Department("Facilities", 0.015, "Head of Workplace", "Facilities Manager", "CC-520",
               ("Facilities Coordinator", "Office Manager", "Workplace Experience Specialist")),
)
# fmt: on


@dataclass(frozen=True)
class Location:
    """An office: where people sit, which locale they use, how their phone numbers look."""

    city: str
    weight: float
    locale: str
    phone_prefix: str
    # Digits of the subscriber number after the prefix.
    phone_digits: int


# The first one is headquarters; "Remote" is picked by REMOTE_SHARE, not by weight.
# fmt: off
LOCATIONS = (
    Location("San Jose", 0.22, "en-US", "+1 408", 7),
    Location("New York", 0.12, "en-US", "+1 212", 7),
    Location("Austin", 0.07, "en-US", "+1 512", 7),
    Location("Toronto", 0.05, "en-CA", "+1 416", 7),
    Location("London", 0.08, "en-GB", "+44 20", 8),
    Location("Dublin", 0.04, "en-IE", "+353 1", 7),
    Location("Berlin", 0.05, "de-DE", "+49 30", 8),
    Location("Paris", 0.04, "fr-FR", "+33 1", 8),
    Location("Amsterdam", 0.03, "nl-NL", "+31 20", 7),
    Location("Madrid", 0.02, "es-ES", "+34 91", 7),
    Location("Warsaw", 0.02, "pl-PL", "+48 22", 7),
    Location("São Paulo", 0.04, "pt-BR", "+55 11", 8),
    Location("Mexico City", 0.03, "es-MX", "+52 55", 8),
    Location("Bengaluru", 0.06, "en-IN", "+91 80", 8),
    Location("Singapore", 0.03, "en-SG", "+65", 8),
    Location("Tokyo", 0.03, "ja-JP", "+81 3", 8),
    Location("Seoul", 0.02, "ko-KR", "+82 2", 8),
    Location("Sydney", 0.03, "en-AU", "+61 2", 8),
    Location("Nairobi", 0.01, "en-KE", "+254 20", 7),
    Location("Lagos", 0.01, "en-NG", "+234 1", 7),
    Location("Remote", 0.00, "en-US", "+1 800", 7),
)
PROJECT_CODENAMES = (
    "Aurora", "Basalt", "Beacon", "Cascade", "Comet", "Condor", "Cypress", "Delta", "Ember", "Falcon", "Fjord",
    "Glacier", "Granite", "Harbor", "Helix", "Horizon", "Juniper", "Kestrel", "Lantern", "Lighthouse", "Meridian",
    "Monsoon", "Nebula", "Northstar", "Obsidian", "Orchid", "Pinnacle", "Polaris", "Quartz", "Redwood", "Saffron",
    "Sequoia", "Sierra", "Summit", "Tempest", "Tundra", "Vanguard", "Voyager", "Willow", "Zephyr",
)
PROJECT_KINDS = ("Project {}", "{} launch team", "{} working group", "{} steering committee")
COMMUNITY_GROUPS = (
    "People managers", "New hires", "Security champions", "Women in Tech", "Pride network", "Parents network",
    "Accessibility guild", "Green team", "Mentors", "Interns", "Hackathon crew", "Toastmasters club",
    "Wellbeing ambassadors", "Incident commanders", "On-call rotation",
)
# fmt: on
REMOTE_SHARE = 0.08


@dataclass(frozen=True)
class SeedResult:
    """What a seed run did (or found, when `if_empty` left a populated account alone)."""

    account: SandboxAccount
    created: bool
    owner_email: str
    admin_emails: list[str]
    users: int
    groups: int
    memberships: int
    status_counts: dict[str, int]
    seconds: float


@dataclass
class _Person:
    index: int
    department: int
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    role: str = Role.MEMBER
    status: str = UserStatus.ACTIVE
    title: str = ""
    manager: int | None = None
    location: int = 0
    hired: datetime = HIRING_START


class SeedError(Exception):
    """The seed cannot run as asked (bad sizes, or it would collide with another account)."""


_TRANSLITERATE = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "đ": "d", "ı": "i"})  # noqa: RUF001


# Names repeat a lot in big accounts.
@functools.cache
def _ascii_slug(text: str, separator: str = "") -> str:
    """`Łukasz` → `lukasz`, `O'Brien` → `obrien`, `Van der Berg` → `vanderberg` (email-safe)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    words = ["".join(ch for ch in word if ch.isascii() and ch.isalnum()) for word in plain.split()]
    return separator.join(word for word in words if word)


def seed_default_domain(*, account_name: str) -> str:
    """The email domain for an account name when none is given: `Acme Corp` → `acme.example.com`."""
    first_word = _ascii_slug(account_name.split()[0]) if account_name.split() else ""
    return f"{first_word or 'sandbox'}.example.com"


def _zoom_id(rng: random.Random) -> str:
    """A Zoom-shaped id (22 base64url characters) drawn from a seeded RNG, so reseeding repeats it."""
    return base64.urlsafe_b64encode(rng.randbytes(16)).decode().rstrip("=")


def _department_count(groups: int) -> int:
    """How many departments (each with its group) an account with `groups` groups has."""
    if groups <= 1:
        # Only the default group: people still have departments, just no department groups.
        return 4
    return min(len(DEPARTMENTS), max(1, (groups - 1) * 2 // 3))


def _hire_time(rng: random.Random, start: datetime) -> datetime:
    span = (HIRING_END - start).total_seconds()
    return start + timedelta(seconds=int(rng.random() * span))


def _build_people(*, rng: random.Random, users: int, departments: int) -> list[_Person]:
    """Everyone's department, place in the hierarchy, role, status, name and email local part."""
    depts = DEPARTMENTS[:departments]
    weights = [dept.weight for dept in depts]
    people = [_Person(index=0, department=0, role=Role.OWNER, hired=HIRING_START)]
    for index in range(1, users):
        # The first people hired head a department each; the rest spread by department size.
        dept = index if index < departments else rng.choices(range(departments), weights)[0]
        people.append(_Person(index=index, department=dept))

    members: dict[int, list[_Person]] = {d: [] for d in range(departments)}
    for person in people:
        members[person.department].append(person)
    ics: list[_Person] = []
    for d, staff in members.items():
        if not staff:
            continue
        head, rest = staff[0], staff[1:]
        head.title = depts[d].head_title
        head.manager = None if head.role == Role.OWNER else 0
        # One line manager per nine reports or so; everyone else reports to one of them.
        managers = rest[: len(rest) // 9]
        for manager in managers:
            manager.title = depts[d].manager_title
            manager.manager = head.index
        for person in rest[len(managers) :]:
            person.title = rng.choice(depts[d].titles)
            person.manager = rng.choice(managers).index if managers else head.index
            ics.append(person)

    # Admins come from IT when it has enough people, else from anywhere; they stay active.
    admin_count = max(MIN_ADMINS, round(users * ADMIN_SHARE))
    it_staff = [p for p in ics if depts[p.department].name == "IT"]
    pool = it_staff if len(it_staff) >= admin_count else ics
    if len(pool) < admin_count:
        pool = people[1:]
    # The first admin by id is admin@: scripts that pick "an admin" by id find the well-known one.
    admins = sorted(rng.sample(pool, admin_count), key=lambda p: p.index)
    for admin in admins:
        admin.role = Role.ADMIN
    admins[0].email = "admin"

    # Owners and admins cannot be deactivated in Zoom, and managers are rarely gone: pick from ICs.
    eligible = [p for p in ics if p.role == Role.MEMBER]
    inactive_count = min(len(eligible), round(users * INACTIVE_SHARE))
    inactive = rng.sample(eligible, inactive_count)
    for person in inactive:
        person.status = UserStatus.INACTIVE
    remaining = [p for p in eligible if p.status == UserStatus.ACTIVE]
    for person in rng.sample(remaining, min(len(remaining), round(users * PENDING_SHARE))):
        person.status = UserStatus.PENDING

    location_weights = [loc.weight for loc in LOCATIONS]
    remote = next(i for i, loc in enumerate(LOCATIONS) if loc.city == "Remote")
    taken = {"owner", "admin"}
    for person in people:
        person.given_name = rng.choice(GIVEN_NAMES)
        person.family_name = rng.choice(FAMILY_NAMES)
        # Leaders sit at headquarters; others at an office, or remote.
        if person.manager is None or person.manager == 0:
            person.location = 0
        elif rng.random() < REMOTE_SHARE:
            person.location = remote
        else:
            person.location = rng.choices(range(len(LOCATIONS)), location_weights)[0]
        if person.index == 0:
            person.email = "owner"
        elif not person.email:
            base = f"{_ascii_slug(person.given_name, '-')}.{_ascii_slug(person.family_name)}"
            local, n = base, 1
            while local in taken:
                n += 1
                local = f"{base}{n}"
            person.email = local
            taken.add(local)
        # Pending users were invited recently; leaders joined early.
        if person.status == UserStatus.PENDING:
            person.hired = _hire_time(rng, HIRING_END - timedelta(days=30))
        elif person.index < departments:
            person.hired = HIRING_START + timedelta(days=rng.randint(0, 400), hours=rng.randint(0, 8))
        elif person.index:
            person.hired = _hire_time(rng, HIRING_START + timedelta(days=120))
    return people


def _phone(rng: random.Random, location: Location) -> str:
    width = location.phone_digits - 1
    return f"{location.phone_prefix} 5{rng.randrange(10**width):0{width}d}"


def _user_rows(
    *, rng: random.Random, id_rng: random.Random, people: list[_Person], account: SandboxAccount, domain: str
) -> list[dict[str, Any]]:
    """Column values of everyone, by field name, with licenses, phones and employee numbers drawn in order."""
    licensed_share = LICENSED_SHARE.get(Plan(account.plan), 0.0)
    # Employee numbers follow hiring order, with the gaps that leavers and reorganisations leave.
    by_hire = sorted(people, key=lambda p: (p.hired, p.index))
    employee_numbers: dict[int, str] = {}
    number = 1000
    for person in by_hire:
        number += rng.randint(1, 3)
        employee_numbers[person.index] = f"E{number:06d}"

    rows: list[dict[str, Any]] = []
    for person in people:
        dept = DEPARTMENTS[person.department]
        location = LOCATIONS[person.location]
        privileged = person.role != Role.MEMBER
        licensed = privileged or (person.status != UserStatus.PENDING and rng.random() < licensed_share)
        extension: dict[str, Any] = {}
        if licensed:
            extension = {
                "zoomWhiteboard": rng.random() < 0.8,
                "zoomWhiteboardPlus": rng.random() < 0.15,
                "zoomHuddles": rng.random() < 0.35,
                "zoomTranslatedCaptions": rng.random() < 0.2,
                "zoomIQ": dept.name in ("Sales", "Customer Success") and rng.random() < 0.6,
            }
        if rng.random() < 0.3:
            extension["pronouns"] = rng.choice(PRONOUNS)
        if licensed and rng.random() < 0.5:
            extension["personalLinkName"] = person.email.replace("-", "")
        phones = [{"type": "work", "value": _phone(rng, location)}]
        if rng.random() < 0.4:
            phones.append({"type": "mobile", "value": _phone(rng, location)})
        modified = min(HIRING_END, person.hired + timedelta(days=rng.randint(0, 540), minutes=rng.randint(0, 600)))
        manager = people[person.manager].email if person.manager is not None else ""
        rows.append(
            {
                "account_id": account.pk,
                "zoom_id": _zoom_id(id_rng),
                "user_name": f"{person.email}@{domain}",
                "given_name": person.given_name,
                "family_name": person.family_name,
                "display_name": f"{person.given_name} {person.family_name}",
                "status": person.status,
                "role": person.role,
                "user_type": "Licensed" if licensed else "Basic",
                "title": person.title,
                "locale": location.locale,
                "location": location.city,
                "phone_numbers": phones,
                "department": dept.name,
                "organization": account.name,
                "cost_center": dept.cost_center,
                "employee_number": employee_numbers[person.index],
                "manager": f"{manager}@{domain}" if manager else "",
                # Most companies sign in through their IdP; a few keep password sign-in too.
                "login_work_email": privileged or rng.random() < 0.05,
                "login_sso": True,
                "zoom_extension": extension,
                "created": person.hired,
                "last_modified": modified,
                "version": 1 + rng.randint(0, 4) if modified > person.hired else 1,
            }
        )
    return rows


@dataclass
class _GroupPlan:
    name: str
    alias: str
    members: list[int]
    is_default: bool = False


def _plan_groups(
    *, rng: random.Random, people: list[_Person], groups: int, departments: int, domain: str
) -> list[_GroupPlan]:
    """The default group, one per department, then offices, projects and communities up to `groups`."""
    everyone = [p.index for p in people]
    plans = [_GroupPlan(DEFAULT_GROUP_NAME, f"everyone@{domain}", everyone, is_default=True)]
    if groups <= 1:
        return plans
    for d, dept in enumerate(DEPARTMENTS[:departments]):
        staff = [p.index for p in people if p.department == d]
        plans.append(_GroupPlan(dept.name, f"{_ascii_slug(dept.name, '-')}@{domain}", staff))

    extra = groups - len(plans)
    # Offices take a third of what is left, largest cities first.
    office_order = sorted(range(len(LOCATIONS)), key=lambda i: -LOCATIONS[i].weight)
    for i in office_order[: min(len(LOCATIONS) - 1, extra // 3)]:
        city = LOCATIONS[i].city
        staff = [p.index for p in people if p.location == i]
        plans.append(_GroupPlan(f"{city} office", f"office-{_ascii_slug(city, '-')}@{domain}", staff))

    names = [kind.format(code) for kind in PROJECT_KINDS for code in PROJECT_CODENAMES]
    rng.shuffle(names)
    names = list(COMMUNITY_GROUPS) + names
    reachable = [p.index for p in people if p.status != UserStatus.PENDING]
    managers = sorted({p.manager for p in people if p.manager is not None})
    round_no = 1
    while len(plans) < groups:
        for base in names:
            if len(plans) >= groups:
                break
            name = base if round_no == 1 else f"{base} {round_no}"
            if name == "People managers":
                staff = managers
            else:
                size = rng.randint(4, max(4, min(250, len(reachable) // 25)))
                staff = sorted(rng.sample(reachable, min(size, len(reachable))))
            alias = f"{_ascii_slug(name, '-')}@{domain}" if rng.random() < 0.3 else ""
            plans.append(_GroupPlan(name, alias, staff))
        round_no += 1
    return plans


def _existing_target(*, account_name: str) -> SandboxAccount | None:
    matches = list(SandboxAccount.objects.filter(name=account_name).order_by("id")[:2])
    if len(matches) > 1:
        raise SeedError(f"Several sandbox accounts are named {account_name!r}; rename one first.")
    return matches[0] if matches else None


def account_seed(
    *,
    users: int,
    groups: int,
    account_name: str = "Acme Corp",
    domain: str | None = None,
    plan: str | None = None,
    seed: int = 42,
    if_empty: bool = False,
) -> SeedResult:
    """Create one sandbox account named `account_name` with `users` users and `groups` groups.

    The account is found by name: a missing one is created; an existing one with no users is
    filled (keeping its Zoom id and knobs); one that already has users is left alone with
    `if_empty`, and refused without it. Nothing of any other account is read or changed, except
    the check that their users do not already own emails at `domain`.
    """
    started = time.perf_counter()
    if users < MIN_USERS:
        raise SeedError(f"--users must be at least {MIN_USERS} (an owner and {MIN_ADMINS} admins).")
    if groups < 1:
        raise SeedError("--groups must be at least 1 (the account's default group).")
    if plan is not None and plan not in Plan.values:
        raise SeedError(f"--plan must be one of {', '.join(Plan.values)}.")

    with transaction.atomic():
        account = _existing_target(account_name=account_name)
        if account is not None and account.users.exists():
            if not if_empty:
                raise SeedError(
                    f"Sandbox account {account_name!r} already has users; pass --if-empty to leave it alone "
                    "or choose another --account-name."
                )
            return _existing_result(account=account, started=started)

        domain = (
            domain or (account.vanity_domain if account else "") or seed_default_domain(account_name=account_name)
        ).lower()
        clash = SandboxUser.objects.filter(user_name__iendswith=f"@{domain}").exclude(account=account).first()
        if clash is not None:
            raise SeedError(f"{clash.user_name} already belongs to another sandbox account; choose another --domain.")

        rng = random.Random(seed)
        id_rng = random.Random(f"{seed}:{domain}")
        account_zoom_id = _zoom_id(id_rng)
        if account is None:
            account = SandboxAccount.objects.create(
                zoom_id=account_zoom_id,
                name=account_name,
                vanity_domain=domain,
                plan=plan or Plan.BUSINESS,
                created=HIRING_START,
            )
        else:
            account.vanity_domain = domain
            account.plan = plan or account.plan
            account.save(update_fields=["vanity_domain", "plan"])

        departments = _department_count(groups)
        people = _build_people(rng=rng, users=users, departments=departments)
        user_rows = _user_rows(rng=rng, id_rng=id_rng, people=people, account=account, domain=domain)
        _insert_rows(model=SandboxUser, rows=user_rows)
        user_ids = _pks_by_zoom_id(model=SandboxUser, account=account)
        user_pks = [user_ids[row["zoom_id"]] for row in user_rows]

        plans = _plan_groups(rng=rng, people=people, groups=groups, departments=departments, domain=domain)
        # An account created by hand may already have groups: reuse its default group and same-named ones.
        existing = {g.display_name.lower(): g.pk for g in account.groups.all()}
        existing_default = account.groups.filter(is_default=True).values_list("pk", flat=True).first()
        group_rows: list[dict[str, Any]] = []
        target_ids: list[str | int] = []
        for group_plan in plans:
            created = HIRING_START + timedelta(days=rng.randint(0, 2000), minutes=rng.randint(0, 600))
            zoom_id = _zoom_id(id_rng)
            last_modified = created + timedelta(days=rng.randint(0, 300))
            version = 1 + rng.randint(0, 6)
            reuse = existing_default if group_plan.is_default else None
            reuse = reuse or existing.get(group_plan.name.lower())
            if reuse is not None:
                target_ids.append(reuse)
                continue
            group_rows.append(
                {
                    "account_id": account.pk,
                    "zoom_id": zoom_id,
                    "display_name": group_plan.name,
                    "email_alias": group_plan.alias,
                    "is_default": group_plan.is_default,
                    "created": created,
                    "last_modified": last_modified,
                    "version": version,
                }
            )
            target_ids.append(zoom_id)
        _insert_rows(model=SandboxGroup, rows=group_rows)
        group_ids = _pks_by_zoom_id(model=SandboxGroup, account=account)
        group_pks = [group_ids[t] if isinstance(t, str) else t for t in target_ids]

        links = [
            {"sandboxgroup_id": group_pk, "sandboxuser_id": user_pks[member]}
            for group_pk, group_plan in zip(group_pks, plans, strict=True)
            for member in group_plan.members
        ]
        _insert_rows(model=SandboxGroup.members.through, rows=links)

    _refresh_planner_statistics()
    status_counts = Counter(person.status for person in people)
    return SeedResult(
        account=account,
        created=True,
        owner_email=user_rows[0]["user_name"],
        admin_emails=sorted(
            (row["user_name"] for row in user_rows if row["role"] == Role.ADMIN),
            key=lambda e: (not e.startswith("admin@"), e),
        ),
        users=len(user_rows),
        groups=len(group_pks),
        memberships=len(links),
        status_counts={status: status_counts.get(status, 0) for status in UserStatus.values},
        seconds=time.perf_counter() - started,
    )


def _refresh_planner_statistics() -> None:
    """After a bulk load PostgreSQL still believes the tables are tiny and would sort every SCIM page
    on disk (measured: 64 s instead of 27 s to page through 50,000 users); ANALYZE tells it the truth."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (SandboxUser, SandboxGroup, SandboxGroup.members.through):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


# Fields whose Python values the database driver cannot take as they are.
_ADAPTED_FIELD_TYPES = frozenset({"JSONField", "DateTimeField"})


def _insert_rows(*, model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Write `rows` (column values by field name, all with the same keys) in bulk: COPY on PostgreSQL,
    multi-row INSERTs elsewhere.

    Rather than `bulk_create`, whose per-value compile step and model instances took 80 % of a
    50,000-user seed (measured while writing bench/seed.py). Only JSON and datetime values need
    their field's adaptation; the rest go to the driver as they are.
    """
    if not rows:
        return
    given = set(rows[0])
    fields = [
        f
        for f in model._meta.concrete_fields
        if f.attname in given or not (f.primary_key or isinstance(f, models.AutoField))
    ]
    names = [f.attname for f in fields]
    # Fields the caller left out (added to the model later, say) get their defaults, as bulk_create gives them.
    defaulted = [(i, f) for i, f in enumerate(fields) if f.attname not in given]
    adapted = [(i, f) for i, f in enumerate(fields) if f.get_internal_type() in _ADAPTED_FIELD_TYPES]
    table = connection.ops.quote_name(model._meta.db_table)
    column_list = ", ".join(connection.ops.quote_name(f.column or f.attname) for f in fields)

    def values_of(row: dict[str, Any]) -> list[Any]:
        values = [row.get(name) for name in names]
        for i, field in defaulted:
            values[i] = field.get_default()
        for i, field in adapted:
            values[i] = field.get_db_prep_save(values[i], connection)
        return values

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg parses every placeholder of a client-side INSERT in Python (20 s of a 50,000-user
            # seed); COPY streams the same rows in about a second.
            with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(values_of(row))
            return
        # SQLite caps parameters per statement (32,766 by default); stay below every backend's cap.
        per_statement = max(1, min(connection.features.max_query_params or 30_000, 30_000) // len(names))
        placeholders = "(" + ", ".join(["%s"] * len(names)) + ")"
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            params = [value for row in batch for value in values_of(row)]
            # Table and column names come from the model, quoted by the backend; values are parameters.
            sql = f"INSERT INTO {table} ({column_list}) VALUES {', '.join([placeholders] * len(batch))}"  # noqa: S608
            cursor.execute(sql, params)


def _pks_by_zoom_id(*, model: type[SandboxUser] | type[SandboxGroup], account: SandboxAccount) -> dict[str, int]:
    """Primary keys of an account's users or groups by Zoom id, in one query."""
    return dict(model.objects.filter(account=account).values_list("zoom_id", "pk"))


def _existing_result(*, account: SandboxAccount, started: float) -> SeedResult:
    """Describe a populated account that `if_empty` left alone."""
    status_counts = Counter(account.users.values_list("status", flat=True))
    owner = account.users.filter(role=Role.OWNER).order_by("id").values_list("user_name", flat=True).first()
    admins = list(account.users.filter(role=Role.ADMIN).order_by("user_name").values_list("user_name", flat=True))
    return SeedResult(
        account=account,
        created=False,
        owner_email=owner or "",
        admin_emails=admins,
        users=sum(status_counts.values()),
        groups=account.groups.count(),
        memberships=SandboxGroup.members.through.objects.filter(sandboxgroup__account=account).count(),
        status_counts={status: status_counts.get(status, 0) for status in UserStatus.values},
        seconds=time.perf_counter() - started,
    )
