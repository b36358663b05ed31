"""Numbered MRV checks (code, Chinese, English); the catalogue of every context is docs/checks.md.

M01xx accounting (核算: fuels, operating hours, the pack's kind) · M02xx data-quality plans, monthly
filings and annual reports · V02xx resolution of 不符合 verification conclusions · V03xx random
assignment of verification bodies (双随机), outcomes, notification, objections and spot checks.
Pure: imports only :mod:`cets.core.errors`, so the pure accounting module may use it.
"""

from cets.core.errors import Check

V0201 = Check("V0201", "核查结论为符合，无需解除", "the verification conclusion is conforming; there is nothing to resolve")
V0202 = Check("V0202", "该不符合结论已解除", "this non-conforming conclusion is already resolved")
V0203 = Check("V0203", "解除方式无效", "unknown resolution")
V0303 = Check("V0303", "该单位本年度已分配核查机构", "the entity already has a verification body for this year")
V0304 = Check("V0304", "核查结果已记录", "the verification outcome is already recorded")
V0305 = Check("V0305", "已超过异议期限", "the objection period has passed")
V0306 = Check("V0306", "核查结果尚未告知，不能提出异议", "the result has not been notified; no objection yet")
V0307 = Check("V0307", "无待决定的异议", "no objection awaiting a decision")
V0308 = Check("V0308", "抽查需要已完成的核查", "a spot check needs a completed verification")
V0309 = Check("V0309", "核查结果尚未记录", "the verification outcome is not recorded yet")
V0310 = Check("V0310", "结果已告知", "the result was already notified")
V0311 = Check("V0311", "排放量应为非负整数（吨）", "emissions must be whole tonnes ≥ 0")
V0312 = Check("V0312", "本市场核查机构由主管部门随机抽取，重点排放单位不得自行委托",
              "in this market the authority draws the verification body at random; the entity may not commission one")
V0313 = Check("V0313", "本市场由重点排放单位自行委托核查机构，主管部门不随机抽取核查",
              "in this market the entity commissions its verification body; the authority draws no regular verification")
V0314 = Check("V0314", "编制本单位排放报告的机构不得核查该报告", "a body that helped prepare the report may not verify it")
V0315 = Check("V0315", "所选机构不是核查机构", "the chosen organisation is not a verification body")
M0201 = Check("M0201", "无待审核的方案版本", "no plan version awaiting review")
M0202 = Check("M0202", "该月已审核通过，不能覆盖", "this month was accepted; it cannot be overwritten")
M0203 = Check("M0203", "无待审核的月度存证", "no monthly filing awaiting review")
M0204 = Check("M0204", "无月度存证，不能生成年度报告", "no monthly filing; no annual report can be generated")
M0205 = Check("M0205", "有月份未存证，不能签署年度报告", "months without a filing; the annual report cannot be signed")
M0206 = Check("M0206", "年度报告已签署", "the annual report is already signed")
M0207 = Check("M0207", "核查排放量与年度报告不一致，不能按机组拆分", "verified emissions differ from the annual report; they cannot be split by unit")
M0208 = Check(
    "M0208", "需已签署的年度报告和已完成、符合（或已解除）的核查", "needs a signed annual report and a completed, conforming (or resolved) verification"
)
NOT_ACCOUNTING = Check("M0101", "规则包不是核算规则包", "the rule pack is not an accounting pack")
NO_OPERATING_HOURS = Check("M0102", "有发电量但运行小时数为零，无法计算负荷系数", "generation without operating hours: the load factor cannot be computed")
UNKNOWN_FUEL = Check("M0103", "规则包中无此燃料品种", "fuel not in the rule pack")
NO_ELIGIBLE_BODY = Check("V0301", "没有可回避利益冲突的核查机构可供抽取", "no verification body free of conflict is left to draw")
NO_BODIES = Check("V0302", "未提供核查机构", "no verification body to draw from")
# Industrial accounting (steel, cement, aluminium: cets.mrv.accounting_industry). The clause is given with each refusal.
MEASURED_NOT_ALLOWED = Check(
    "M0104", "指南规定此参数采用缺省值，不得填报实测值",
    "the guideline sets this parameter to its default; a measured value is not allowed",
)
MEASURED_DEFAULT_MIXED = Check(
    "M0105", "同一年度内该参数的取值方式（实测或缺省）不得变更",
    "the parameter's method (measured or default) may not change within the year",
)
MATERIAL_NOT_ACCOUNTED = Check(
    "M0106", "该物料不在规则包的此类排放源中（指南未列明的不核算）",
    "material not in the rule pack for this source (what the guideline does not list is not accounted)",
)
PROCESS_OUTPUT_NOT_ALLOWED = Check(
    "M0107", "指南未规定该工序输出此种化石燃料",
    "the guideline does not let this process send out this fuel",
)
MEASUREMENT_REQUIRED = Check(
    "M0108", "此参数无缺省值，应填报实测值",
    "this parameter has no default; a measured value is required",
)
NCV_DIFFERS_FROM_ENTERPRISE = Check(
    "M0109", "工序或机组的固体燃料低位发热量应采用企业层级当月数据",
    "a process's or unit's solid-fuel NCV is the enterprise-level value of the month",
)
GREEN_EXCEEDS_PURCHASED = Check(
    "M0701", "当月绿电电量超过外购电力电量（绿电是外购电力的一部分）",
    "the month's green electricity exceeds its purchased electricity (green electricity is part of what was purchased)",
)
UNKNOWN_METHOD = Check(
    "M0110", "规则包的核算方法未知",
    "unknown accounting method in the rule pack",
)
# Facility duties of steel, cement and aluminium (cets.mrv.facility_services): M03xx plans, monthly filings and annual
# reports per facility; M04xx the monthly filing form's lines; V04xx verification per facility and its hand-over.
M0301 = Check("M0301", "该行业无设施核算规则包（本年度）", "no facility accounting pack for this sector and year")
M0302 = Check("M0302", "不是本单位的设施", "not a facility of this entity")
M0303 = Check("M0303", "月份应为1至12", "the month must be 1 to 12")
M0304 = Check("M0304", "该月存证已审核通过，不能覆盖", "this month's filing was accepted; it cannot be overwritten")
M0305 = Check("M0305", "月度存证至少需要一行活动数据", "a monthly filing needs at least one activity line")
M0306 = Check("M0306", "无待审核的设施月度存证", "no facility monthly filing awaiting review")
M0307 = Check("M0307", "无设施月度存证，不能生成年度报告", "no facility monthly filing; no annual report can be generated")
M0308 = Check("M0308", "该单位未列入本年度该行业名录，无法确定行业", "the entity is not on this year's list of one sector; name the sector")
M0401 = Check("M0401", "排放源类型不属于该行业", "source not of this sector")
M0402 = Check("M0402", "工序或机组填写有误", "wrong process or unit for this source")
M0403 = Check("M0403", "物料/燃料名称为空或超过40个字符", "material is empty or longer than 40 characters")
M0404 = Check("M0404", "数量应为非负数；参数行不填数量", "quantity must be a number ≥ 0; a parameter row takes none")
M0405 = Check("M0405", "实测参数超出范围（低位发热量 > 0；含碳量、氧化率在 (0, 1]；参数在规则包范围内）",
              "measured parameter out of range (NCV > 0; carbon content and oxidation rate in (0, 1]; parameters within the pack's bounds)")
M0406 = Check("M0406", "同一排放源、工序和物料重复填报", "the same source, part and material is filed twice")
M0407 = Check("M0407", "数值应为普通十进制数字，且整数位和小数位不超过可存储的位数",
              "the value must be a plain decimal number within the digits and decimals stored")
V0401 = Check("V0401", "核查需覆盖本单位每个设施，且仅限本单位设施", "the verification covers every facility of the entity and only those")
V0402 = Check("V0402", "设施核查数据无效：排放量、强度排放量为非负整数吨且强度排放量不大于排放量，产量为正整数吨",
              "invalid facility figures: emissions and intensity emissions whole tonnes ≥ 0, intensity emissions ≤ emissions, output whole tonnes > 0")
V0403 = Check("V0403", "需已签署（报送）的该行业年度排放报告", "needs the sector's signed (submitted) annual report")
V0404 = Check("V0404", "需已完成、符合（或已解除）的核查", "needs a completed, conforming (or resolved) verification")
V0405 = Check("V0405", "该设施本年度已有核查数据", "the facility already has verified data for this year")
# General reporting units (一般报告单位, Beijing, 京环发〔2024〕8号 三(一)2): their annual report and the district's check
# (cets.mrv.general_reports).
M0501 = Check("M0501", "该单位不是本年度名录中的一般报告单位", "the unit is not a general reporting unit on this year's list")
M0502 = Check("M0502", "排放量应为非负整数吨", "emissions must be whole tonnes ≥ 0")
M0503 = Check("M0503", "证明材料须为PDF、JPEG或PNG文件，不超过5 MiB", "the evidence must be a PDF, JPEG or PNG file of at most 5 MiB")
M0504 = Check("M0504", "报告已检查通过，不能重新报送", "the report was accepted; it cannot be filed again")
M0505 = Check("M0505", "无待检查的一般报告单位排放报告", "no general reporting unit's report awaiting the check")
M0506 = Check("M0506", "退回须填写意见", "a return needs a comment")
M0507 = Check("M0507", "该市场本年度的履约周期规则包无一般报告单位报送步骤", "the market's cycle pack has no general reporting step for this year")

# P01xx Beijing carbon-inclusion (碳普惠, PCER) project reductions (cets.mrv.pcer).
P0101 = Check("P0101", "碳普惠方法学未知", "unknown carbon-inclusion methodology")
P0102 = Check("P0102", "活动数据应为非负整数", "activity data must be whole numbers ≥ 0")
P0103 = Check("P0103", "活动数据缺少必填项或含未知项", "activity data is missing a required field or has an unknown one")
P0104 = Check("P0104", "规则包不是碳普惠方法学包", "the rule pack is not a carbon-inclusion methodology pack")
P0105 = Check("P0105", "碳普惠项目尚未备案", "the carbon-inclusion project is not approved yet")
P0106 = Check("P0106", "该项目或监测期已处理", "this project or monitoring period was already decided")
P0107 = Check("P0107", "监测期起止日期无效", "invalid monitoring period dates")

# P02xx PCER issuance and the carbon-inclusion pages (cets.mrv.pcer_services, the PCER page).
P0201 = Check("P0201", "监测期减排量尚未经主管部门确认，不能签发", "the monitoring period's reduction is not confirmed by the bureau; it cannot be issued")
P0202 = Check("P0202", "上一登记步骤尚待第二人审批，或减排量已签发", "the previous registry step awaits approval, or the reduction is already issued")
P0203 = Check("P0203", "项目业主没有北京市场登记账户", "the project owner has no Beijing registry account")
P0204 = Check("P0204", "监测期减排量为零，无可签发", "the monitoring period's reduction is zero; nothing to issue")
P0205 = Check("P0205", "项目名称、地点或监测期日期填写无效", "invalid project name, location or monitoring period date")
