"""The aggregation behind a clinic's patient count (domain/patient_counts.py shapes the result)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from pymongo.database import Database

PLAN_EXEMPT_PROVIDER = "twiist"


def _count_pipeline(clinic_oid, demo_id: str) -> list:
    demo_match = {"userId": demo_id} if demo_id else {"_id": {"$exists": False}}
    not_demo = {"userId": {"$ne": demo_id}} if demo_id else {}
    return [
        {"$match": {"clinicId": clinic_oid}},
        {"$facet": {
            "total": [{"$count": "count"}],
            "demo": [{"$match": demo_match}, {"$count": "count"}],
            "plan": [{"$match": {**not_demo, "dataSources.providerName": {"$ne": PLAN_EXEMPT_PROVIDER}}},
                     {"$count": "count"}],
            "providers": [{"$match": not_demo} if not_demo else {"$match": {}},
                          {"$unwind": "$dataSources"},
                          {"$group": {"_id": {"provider": "$dataSources.providerName",
                                              "state": "$dataSources.state"},
                                      "count": {"$sum": 1}}}],
        }},
    ]


def facets(db: Database, clinic_id, demo_id: str, session=None) -> dict:
    """{total, demo, plan: [{count}], providers: [{_id: {provider, state}, count}]} of the
    clinic's patients (the demo patient counted apart)."""
    result = list(db.patients.aggregate(_count_pipeline(object_id(clinic_id), demo_id), session=session))
    return result[0] if result else {}
