"""Numbered refusals of supervision and public disclosure (S01xx credit records, S02xx blacklist,
S03xx joint-punishment notices, S04xx reports from the public, S05xx the screened verification pool).
Jurisdiction refusals are the parties' R0502."""

from __future__ import annotations

from cets.core.errors import Check

# credit records (Measures Art. 38)
S0101 = Check("S0101", "信用记录类型无效", "unknown credit record kind")
S0102 = Check("S0102", "信用记录须填写原因和依据文号", "a credit record needs a reason and a source reference")
S0103 = Check("S0103", "信用记录对象须为重点排放单位或核查技术服务机构（核查机构警示仅限核查机构）",
              "a credit record's subject must be a key emitting entity or a verification body (a verifier warning only a verification body)")
S0104 = Check("S0104", "记录日期不得晚于今日", "the record date may not be later than today")

# blacklist (Measures Art. 49)
S0201 = Check("S0201", "黑名单惩戒措施无效", "unknown blacklist effect")
S0202 = Check("S0202", "列入黑名单须填写决定文号和原因", "a blacklist entry needs a decision reference and a reason")
S0203 = Check("S0203", "黑名单期限终止日早于起始日", "the blacklist period ends before it starts")
S0204 = Check("S0204", "禁止从事核查业务仅适用于核查技术服务机构", "barring from verification work applies only to a verification body")
S0205 = Check("S0205", "该黑名单记录已移出", "this blacklist entry has already been lifted")

# joint punishment notices (Measures Art. 46)
S0301 = Check("S0301", "联合惩戒通报须针对受处罚的重点排放单位，并填写处罚决定文号和情况说明",
              "a joint-punishment notice names a penalised key emitting entity, the penalty decision's reference and the facts")
S0302 = Check("S0302", "通报部门无效", "unknown department")
S0303 = Check("S0303", "已向该部门通报", "the notice has already been sent to this department")

# reports from the public (Measures Art. 40, Regulations Art. 18)
S0401 = Check("S0401", "举报须填写被举报对象和举报内容（至少20字）", "a report needs whom it concerns and what happened (at least 20 characters)")
S0402 = Check("S0402", "提交过于频繁，请稍后再试", "too many reports from this session; try again later")
S0403 = Check("S0403", "省份代码无效", "unknown province code")
S0404 = Check("S0404", "举报已办结", "the report is already closed")
S0405 = Check("S0405", "办理反馈不得为空", "the handling feedback may not be empty")
S0406 = Check("S0406", "城市代码须为所选省份的4位行政区划代码", "the city code must be a 4-digit division code inside the province")

# the verification pool (Measures Art. 49 effect)
S0501 = Check("S0501", "可抽取的核查技术服务机构均已列入黑名单", "every verification body offered is blacklisted from verification work")
