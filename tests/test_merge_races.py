"""A clinic merge racing tag and site writes on its target (issue 12): the merge adds the source's tags
and sites under the rules of CreatePatientTag and CreateSite, so whatever the interleaving the target
never holds two tags or two sites of one name, never more than 50 tags, and no site that CreateSite
added past the 50th (the merge itself ignores the site limit, as the reference's
CreateSiteIgnoringLimit). 20 clients at once, a few rounds; every answer is checked against the
documented ones and every stored tag and site is accounted for, whatever the order."""
from __future__ import annotations

import pytest
from bson import ObjectId

from clinic_api.store import sites as sites_store
from clinic_api.store import tags as tags_store
from merge_support import TARGET_ADMIN, add_sites, add_tags, body, merge_url, pair, seed_patient
from test_integrity_races import (DUPLICATE_SITE, DUPLICATE_TAG, ROUNDS, TOO_MANY_SITES, TOO_MANY_TAGS, race,
                                  stored)

SOURCE_TAGS = ("Alpha", "Beta", "Gamma")
SOURCE_SITES = ("North", "South", "East")
# Each client first sends a few requests that change nothing (a site named as one of the target's own:
# 409 whatever the count, the name being checked first), then its writes, so that the writes land before,
# during and after the merge's transaction (wherever they land, the test checks the same invariants).
# Per round, (fillers of the first client, more for each next client): the writes start at once (the
# memory store's merge is short), or spread over the wire's longer transaction.
SPREADS = ((0, 1), (2, 2), (4, 3))
TAG_CLIENTS = [("alpha",), ("new 1", "BETA"), ("gam ma", "new 2"), ("Alpha ",), ("new 3", "beta"),
               ("GAMMA", "new 4"), ("a lpha",), ("new 5", "Be Ta"), ("gamma",)]
SITE_CLIENTS = [("north", "n1"), ("SOUTH",), ("n2", "East"), ("NORTH", "n3"), ("south", "n4", "n5", "n6"),
                ("EAST", "n7")]
RENAMES = ("NORTH", "south", "East", "Gamma")  # UpdateSite of target sites 0-3 (a clash, or a new name)
MERGE_ANSWERS = {(200, ""), (409, DUPLICATE_TAG), (422, TOO_MANY_TAGS), (409, DUPLICATE_SITE)}
RENAME_CLASH = '{"message":"checking site constraints: duplicate site name"}\n'


def unique_under(key, names) -> bool:
    return len({key(n) for n in names}) == len(names)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_a_merge_racing_tag_and_site_writes_keeps_the_names_unique_and_capped(db, server, as_user, round_):
    """The source brings 3 tags and 3 sites; the target has 44 tags and 45 sites. 20 clients: the
    merge, 9 creating tags (5 new names, the rest the source's in other spellings), 6 creating sites
    (7 new names, the rest the source's), 4 renaming target sites (3 to the source's names)."""
    source, target = pair(db)
    add_tags(db, source, *SOURCE_TAGS)
    source_sites = add_sites(db, source, *SOURCE_SITES)
    for k in range(4):  # patients carrying the source's tags and sites: the merge moves them
        seed_patient(db, source, f"{round_ + 1:02x}{k:08x}", tags=[t["_id"] for t in source["patientTags"][k % 3:]],
                     sites=source_sites[k % 3:])
    initial_tags = add_tags(db, target, *[f"old tag {i}" for i in range(44)])
    initial_sites = add_sites(db, target, *[f"old site {i}" for i in range(45)])
    admin = as_user(TARGET_ADMIN)
    base = f"/v1/clinics/{target['_id']}"
    fillers: list = []

    def client(fill: int, requests):
        def run():
            mine = [admin.post(f"{base}/sites", json={"name": f"OLD SITE {10 + k % 30}"})
                    for k in range(fill)]
            fillers.extend(mine)
            return [send() for send in requests]
        return run

    def creates(path, names):
        return [lambda n=n: admin.post(f"{base}/{path}", json={"name": n}) for n in names]

    def rename(k):
        site_id = str(initial_sites[k]["id"])
        return [lambda: admin.put(f"{base}/sites/{site_id}", json={"id": site_id, "name": RENAMES[k]})]

    first, step = SPREADS[round_ % len(SPREADS)]
    calls = [client(0, [lambda: server.post(merge_url(target), json=body(source))])]
    calls += [client(first + step * i, creates("patient_tags", names)) for i, names in enumerate(TAG_CLIENTS)]
    calls += [client(first + step * i, creates("sites", names)) for i, names in enumerate(SITE_CLIENTS)]
    calls += [client(first + 2 * step * k, rename(k)) for k in range(len(RENAMES))]
    assert len(calls) == 20
    results = race(calls)
    merge_answer = (results[0][0].status_code, results[0][0].text)
    tag_answers = [r for rs in results[1:10] for r in rs]
    site_answers = [r for rs in results[10:16] for r in rs]
    rename_answers = [rs[0] for rs in results[16:]]
    assert {(r.status_code, r.text) for r in fillers} == {(409, DUPLICATE_SITE)}

    # Every answer is a documented one.
    assert merge_answer in MERGE_ANSWERS
    assert {(r.status_code, r.text) for r in tag_answers if r.status_code != 200} <= {
        (409, DUPLICATE_TAG), (422, TOO_MANY_TAGS)}
    assert {(r.status_code, r.text) for r in site_answers if r.status_code != 200} <= {
        (409, DUPLICATE_SITE), (422, TOO_MANY_SITES)}
    assert {(r.status_code, r.text) for r in rename_answers if r.status_code != 200} <= {(409, RENAME_CLASH)}
    merged = merge_answer[0] == 200

    # The names: unique under the reference's comparisons, at most 50 tags.
    tags = stored(db, target["_id"], "patientTags")
    sites = stored(db, target["_id"], "sites")
    assert unique_under(tags_store.name_key, [t.get("name") or "" for t in tags]), sorted(t["name"] for t in tags)
    assert unique_under(sites_store.fold, [s["name"] for s in sites]), sorted(s["name"] for s in sites)
    assert len(tags) <= 50

    # Every stored tag and site is accounted for: the target's own, those created (200), the merged ones.
    created_tags = {ObjectId(r.json()["id"]): r.json()["name"] for r in tag_answers if r.status_code == 200}
    by_id = {t["_id"]: t.get("name") for t in tags}
    assert len(by_id) == len(tags)
    assert {t["_id"]: t["name"] for t in initial_tags}.items() <= by_id.items()
    assert created_tags.items() <= by_id.items()
    others = [by_id[i] for i in by_id.keys() - created_tags.keys() - {t["_id"] for t in initial_tags}]
    assert sorted(others) == (sorted(SOURCE_TAGS) if merged else [])
    created_sites = [ObjectId(r.json()["id"]) for r in site_answers if r.status_code == 200]
    expected_sites = {s["id"] for s in initial_sites} | set(created_sites) | (
        {s["id"] for s in source_sites} if merged else set())
    assert sorted(map(str, (s["id"] for s in sites))) == sorted(map(str, expected_sites))
    # CreateSite never adds a site past the 50th (sites are only appended here, so positions hold).
    positions = {s["id"]: i for i, s in enumerate(sites)}
    assert all(positions[site_id] < 50 for site_id in created_sites), [positions[s] for s in created_sites]
    renamed = {initial_sites[k]["id"]: RENAMES[k] for k, r in enumerate(rename_answers) if r.status_code == 200}
    assert {s["id"]: s["name"] for s in sites if s["id"] in renamed} == renamed

    # All or nothing: the source is gone with the merge, untouched without it; patients hold only real tags.
    left = db.clinics.find_one({"_id": source["_id"]})
    if merged:
        assert left is None and db.patients.count_documents({"clinicId": source["_id"]}) == 0
        known = {t["_id"] for t in tags}
        assert all(set(p.get("tags") or []) <= known for p in db.patients.find({"clinicId": target["_id"]}))
    else:
        assert left is not None and [t["name"] for t in left["patientTags"]] == list(SOURCE_TAGS)
        assert [s["id"] for s in left["sites"]] == [s["id"] for s in source_sites]
        assert db.patients.count_documents({"clinicId": source["_id"]}) == 4 and db.merge_plans.count_documents({}) == 0
