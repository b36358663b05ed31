"""Numbered allocation checks (code, Chinese, English); the catalogue of every context is docs/checks.md.

A01xx allocation: packs and inputs, stages (pre-allocation, final), data tables, dynamic adjustment,
objections; A0130 is the verification block (an unresolved 不符合 conclusion refuses final issuance).
"""

from cets.core.errors import Check

A0101 = Check("A0101", "配额已发放，不能重新核算", "allocation already issued; it cannot be recomputed")
A0102 = Check("A0102", "缺少核查数据", "verified data missing")
A0103 = Check("A0103", "发放阶段顺序错误", "issuance stages out of order")
A0104 = Check("A0104", "发放提议尚未执行", "issuance proposal has not been executed")
A0130 = Check("A0130", "存在未解除的核查不符合结论，不能核定发放", "unresolved non-conforming verification conclusions block final allocation")
A0131 = Check("A0131", "该市场该年度的配额核定方法不使用单位核定依据", "the market's allocation method for the year takes no per-entity approval basis")
A0106 = Check("A0106", "重点排放单位没有注册登记账户", "the entity has no registry account")
A0105 = Check("A0105", "调整量必须为正整数吨", "an adjustment must be a positive whole number of tonnes")
A0108 = Check("A0108", "重点排放单位不存在", "no such entity")
A0109 = Check("A0109", "超出管辖范围", "outside the importer's jurisdiction")
A0110 = Check("A0110", "该单位本年度配额已发放或已提议发放，不能导入", "the entity's allocation of the year is issued or proposed; it cannot be imported")
A0114 = Check("A0114", "该单位本年度没有配额记录", "the entity has no allocation record for the year")
A0115 = Check("A0115", "动态调整状态不允许此操作", "the dynamic adjustment is not in a state that allows this")
A0116 = Check("A0116", "导入的数据表记录不能自动重算", "an allocation imported from data tables cannot be recomputed here")
A0120 = Check("A0120", "本省尚未公布该阶段的配额数据表", "the province has not published the tables of this stage")
A0121 = Check("A0121", "已超过提出异议的期限（公布后7个工作日）", "the objection period (7 working days from publication) is over")
A0122 = Check("A0122", "异议已作出决定，不能更改", "the objection has been decided; the decision stands")
A0123 = Check("A0123", "异议理由不能为空", "the grounds of an objection cannot be empty")
A0117 = Check("A0117", "该配额方案没有可在平台上运行的分配方法（或不覆盖该年度）",
              "the pack names no allocation mechanism this platform runs (or does not cover the year)")
A0124 = Check("A0124", "本省该阶段没有可报送的配额数据", "the province has no allocation of this stage to submit")
A0125 = Check("A0125", "注登机构已收到该数据表", "the registry has already received these tables")
A0126 = Check("A0126", "数据表报送记录不存在", "no such table submission")

# A02xx what-if runs (draft or alternative packs applied to a stored year's verified data, nothing stored)
A0201 = Check("A0201", "草案方案不存在或不是配额分配方案", "the draft pack does not exist or is not an allocation pack")
A0202 = Check("A0202", "基准应写作 市场/年度（如 national/2024）", "the base must be written market/year (e.g. national/2024)")
A0203 = Check("A0203", "基准年度该行业没有配额方案或核查数据", "the base year has no allocation pack or verified data for the sector")
A0204 = Check("A0204", "同一行业只能有一个草案方案", "one draft pack per sector in a run")
A0205 = Check("A0205", "基准年度没有计入的成交，无法得到年度均价", "no counted trades in the base year: no average price")

# A03xx the pre-issue of a pilot market's free allocation before the emissions are determined (免费配额预发,
# 京环发〔2024〕8号 三(三)2: by 07-15; the final allocation by 09-15) and its true-up.
A0301 = Check("A0301", "该单位本年度免费配额已预发或预发提议待审，不能再次预发",
              "the entity's free allowances of the year are pre-issued or a pre-issue is waiting: no second pre-issue")
A0302 = Check("A0302", "没有可预发的单位（无核定依据、未完成上年度履约或上年度无核定配额）",
              "nothing to pre-issue (no approval basis, previous compliance not completed, or no previous allocation)")
A0303 = Check("A0303", "该配额方案该年度没有预发基数", "the allocation pack has no pre-issue basis for the year")
A0304 = Check("A0304", "免费配额预发提议待审，请先审批或驳回后再核算", "a pre-issue proposal is waiting: approve or reject it before computing the allocation")
A0305 = Check("A0305", "本年度配额已按核算结果分阶段发放，不能再预发", "the year's allocation is already being issued by stages: no pre-issue")
A0306 = Check("A0306", "本年度已预发免费配额，预分配阶段不能再发放",
              "the year's free allowances were pre-issued: the pre-allocation stage cannot be issued again")
A0307 = Check("A0307", "客户端键应为1至40个字母、数字、-、_ 或 .", "the client key must be 1 to 40 letters, digits, '-', '_' or '.'")
