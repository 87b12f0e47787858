"""Clinic merge: planning (duplicate detection, sub-plans, what blocks), execution in one
transaction with its `merge_plans` records and emails, and the XLSX report.

    plan = planning.plan_merge(services, target_id, source_id)
    report.workbook_bytes(plan)           # GenerateMergeReport
    execution.execute(services, plan)     # MergeClinic
"""
