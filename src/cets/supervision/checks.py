"""Numbered refusals of supervision and public disclosure (G, governance; core's security codes are S):
G01xx credit records, G02xx blacklist, G03xx joint-punishment notices, G04xx reports from the public, G05xx the
screened verification pool.
Jurisdiction refusals are the parties' R0502."""

from __future__ import annotations

from cets.core.errors import Check

# credit records (Measures Art. 38)
G0101 = Check("G0101", "信用记录类型无效", "unknown credit record kind")
G0102 = Check("G0102", "信用记录须填写原因和依据文号", "a credit record needs a reason and a source reference")
G0103 = Check("G0103", "信用记录对象须为重点排放单位或核查技术服务机构（核查机构警示仅限核查机构）",
              "a credit record's subject must be a key emitting entity or a verification body (a verifier warning only a verification body)")
G0104 = Check("G0104", "记录日期不得晚于今日", "the record date may not be later than today")

# blacklist (Measures Art. 49)
G0201 = Check("G0201", "黑名单惩戒措施无效", "unknown blacklist effect")
G0202 = Check("G0202", "列入黑名单须填写决定文号和原因", "a blacklist entry needs a decision reference and a reason")
G0203 = Check("G0203", "黑名单期限终止日早于起始日", "the blacklist period ends before it starts")
G0204 = Check("G0204", "禁止从事核查业务仅适用于核查技术服务机构", "barring from verification work applies only to a verification body")
G0205 = Check("G0205", "该黑名单记录已移出", "this blacklist entry has already been lifted")

# joint punishment notices (Measures Art. 46)
G0301 = Check("G0301", "联合惩戒通报须针对受处罚的重点排放单位，并填写处罚决定文号和情况说明",
              "a joint-punishment notice names a penalised key emitting entity, the penalty decision's reference and the facts")
G0302 = Check("G0302", "通报部门无效", "unknown department")
G0303 = Check("G0303", "已向该部门通报", "the notice has already been sent to this department")

# reports from the public (Measures Art. 40, Regulations Art. 18)
G0401 = Check("G0401", "举报须填写被举报对象和举报内容（至少20字）", "a report needs whom it concerns and what happened (at least 20 characters)")
G0402 = Check("G0402", "提交过于频繁，请稍后再试", "too many reports from this session; try again later")
G0403 = Check("G0403", "省份代码无效", "unknown province code")
G0404 = Check("G0404", "举报已办结", "the report is already closed")
G0405 = Check("G0405", "办理反馈不得为空", "the handling feedback may not be empty")
G0406 = Check("G0406", "城市代码须为所选省份的4位行政区划代码", "the city code must be a 4-digit division code inside the province")

# the verification pool (Measures Art. 49 effect)
G0501 = Check("G0501", "可抽取的核查技术服务机构均已列入黑名单", "every verification body offered is blacklisted from verification work")

# market stabilisation (stabilisation.py: triggers, alerts, reserve auctions; draft Measures Art. 9, 23)
G0601 = Check("G0601", "该交易日没有成交数据", "there are no trading figures for that day")
G0602 = Check("G0602", "预警不存在或已决定", "the alert does not exist or is already decided")
G0603 = Check("G0603", "决定内容与文号不得为空", "the decision and its reference may not be empty")
G0604 = Check("G0604", "竞买申报无效（每行：账户号,价格分/吨,数量吨）", "invalid bids (one per line: account, price in fen/t, quantity in t)")
G0605 = Check("G0605", "拍卖无成交（无有效申报）", "the auction cleared nothing (no valid bid)")
G0606 = Check("G0606", "拍卖参数无效（数量与底价须为正整数）", "invalid auction terms (quantity and floor price must be positive integers)")

# false-reporting findings (Measures Art. 43; Regulations Art. 22)
G0701 = Check("G0701", "虚报瞒报认定须填写决定文号和事实，适用条款须为《管理办法》第四十三条或《暂行条例》第二十二条",
              "a false-reporting finding needs a decision reference, the facts, and the rules applied (Measures Art. 43 or Regulations Art. 22)")
G0702 = Check("G0702", "罚款金额超出法定幅度", "the fine is outside the range the rules give")
G0703 = Check("G0703", "违法所得、罚款和核减数量须为非负整数", "gains, fine and cut must be non-negative whole numbers")
G0704 = Check("G0704", "适用条款与认定对象不符（第四十三条、第二十二条适用于重点排放单位，第二十三条适用于技术服务机构）",
              "the article does not fit the subject (Measures Art. 43 and Regulations Art. 22 for an entity, Regulations Art. 23 for a verification body)")
G0705 = Check("G0705", "核减比例须在规定幅度内", "the allocation cut share is outside the range the rules give")

# market surveillance (Measures Art. 22; Regulations Art. 17, 21)
G0801 = Check("G0801", "处理结果须为排除或移交调查，并填写理由", "the outcome must be dismiss or refer, with a reason")
G0802 = Check("G0802", "该预警已处理", "this alert has already been decided")
G0803 = Check("G0803", "预警不存在", "no such alert")
G0804 = Check("G0804", "关联账户须填写所属集团（实际控制人）和依据", "a related participant needs its holder group (actual controller) and the basis")

# determined emissions on a finding (Measures 2021 Art. 39; draft Measures Art. 43: the surrender basis)
G1001 = Check("G1001", "核定（测算）排放量只能记入对重点排放单位的认定", "determined emissions can be recorded only on a finding against a key emitting entity")

# records named by a form that do not exist (a stale page, a typed or forged id)
G1201 = Check("G1201", "黑名单记录不存在", "no such blacklist entry")
G1202 = Check("G1202", "联合惩戒通报不存在", "no such joint-punishment notice")
G1203 = Check("G1203", "举报不存在", "no such report")
