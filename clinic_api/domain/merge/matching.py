"""Duplicate detection between patients and duplicate groups inside one clinic
(migrations-merge.md §2.3, §2.4).

Two patients are compared on four attributes: userId (exact), birthDate (exact), fullName and
mrn (lower-cased, trimmed); a blank value never matches. A patient is never its own duplicate
(same clinic and same userId). The matched attributes give the pair's conflict category.
Orders are deterministic: the order of the patient list.
"""
from __future__ import annotations

from collections import deque

from clinic_api.domain.merge.model import (DUPLICATE_ACCOUNTS, LIKELY_DUPLICATES, MRN_ONLY, NAME_ONLY, Cluster,
                                           ClusterMember)
from clinic_api.store import tags as tags_store

USER_ID, DOB, FULL_NAME, MRN = "userId", "dob", "fullName", "mrn"
ATTRIBUTES = (USER_ID, DOB, FULL_NAME, MRN)


def lower(text: str) -> str:
    """Lower-case per code point, as Go's strings.ToLower ('İ' stays one character)."""
    return "".join(ch.lower()[0] if ch.lower() else ch for ch in text)


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def user_id(patient: dict) -> str:
    return _text(patient.get("userId"))


def normalized_mrn(patient: dict) -> str:
    return lower(tags_store.trim(_text(patient.get("mrn"))))


def attribute(patient: dict, name: str) -> str:
    if name == USER_ID:
        return user_id(patient)
    if name == DOB:
        return _text(patient.get("birthDate"))
    if name == FULL_NAME:
        return lower(tags_store.trim(_text(patient.get("fullName"))))
    return normalized_mrn(patient)


def _same_record(a: dict, b: dict) -> bool:
    return a.get("clinicId") == b.get("clinicId") and user_id(a) == user_id(b)


class Index:
    """The patients of a list by each non-blank attribute value."""

    def __init__(self, patients: list[dict]):
        self.patients = patients
        self.by: dict = {name: {} for name in ATTRIBUTES}
        self.position: dict = {}
        for pos, patient in enumerate(patients):
            self.position.setdefault(user_id(patient), pos)
            for name in ATTRIBUTES:
                value = attribute(patient, name)
                if value:
                    self.by[name].setdefault(value, []).append(patient)

    def with_mrn(self, mrn: str) -> list[dict]:
        return self.by[MRN].get(mrn, []) if mrn else []

    def by_user_id(self, uid: str) -> dict | None:
        found = self.by[USER_ID].get(uid) or []
        return found[0] if found else None


def category(matched: list[str]) -> str | None:
    if USER_ID in matched:
        return DUPLICATE_ACCOUNTS
    if len(matched) == 1:
        return {MRN: MRN_ONLY, FULL_NAME: NAME_ONLY}.get(matched[0])  # DOB alone is not reported
    if len(matched) > 1:
        return LIKELY_DUPLICATES
    return None


def duplicates(patient: dict, index: Index) -> list[tuple[str, str]]:
    """[(userId, category)] of the patients of the index that the patient matches, in the
    index's order."""
    matched: dict[str, list[str]] = {}
    for name in ATTRIBUTES:
        value = attribute(patient, name)
        if not value:
            continue
        for other in index.by[name].get(value, []):
            if not _same_record(patient, other):
                matched.setdefault(user_id(other), []).append(name)
    out = []
    for uid in sorted(matched, key=lambda u: index.position.get(u, 0)):
        cat = category(matched[uid])
        if cat is not None:
            out.append((uid, cat))
    return out


def clusters(patients: list[dict]) -> list[Cluster]:
    """Connected groups (2 or more) of the clinic's patients linked by a conflict category; each
    member lists its direct neighbours by category."""
    index = Index(patients)
    by_id: dict[str, dict] = {}
    for patient in patients:
        by_id.setdefault(user_id(patient), patient)
    edges: dict[str, dict[str, str]] = {uid: {} for uid in by_id}
    for patient in by_id.values():
        uid = user_id(patient)
        for other, cat in duplicates(patient, index):
            if other in by_id and other != uid:
                edges[uid].setdefault(other, cat)
                edges[other].setdefault(uid, cat)
    visited: set[str] = set()
    out = []
    for start in by_id:
        if start in visited:
            continue
        members, queue = [], deque([start])
        visited.add(start)
        while queue:
            uid = queue.popleft()
            conflicts: dict[str, list[str]] = {}
            for other in sorted(edges[uid], key=lambda u: index.position.get(u, 0)):
                conflicts.setdefault(edges[uid][other], []).append(other)
                if other not in visited:
                    visited.add(other)
                    queue.append(other)
            members.append(ClusterMember(patient=by_id[uid], conflicts=conflicts))
        if len(members) > 1:
            out.append(Cluster(members=members))
    return out
