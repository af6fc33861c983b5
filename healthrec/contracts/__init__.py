"""Family-doctor contracts (家庭医生签约): teams, one contract per resident at a time,
renewal and termination, and the contracted share per village."""
