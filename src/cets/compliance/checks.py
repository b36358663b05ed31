"""Numbered checks of the compliance context: C07xx carry-over (2023–2024 power plan 附5), C08xx
non-compliance (rectification, fines, deduction), C09xx notices, certificates, borrowing and relief,
C10xx the Beijing pilot. Surrender refusals use the registry's R06xx."""

from cets.core.errors import Check

C0801 = Check("C0801", "该单位已按时足额清缴，无需责令改正或处罚", "the entity surrendered in full by the deadline: nothing to rectify or fine")
C0802 = Check("C0802", "罚款倍数或金额超出法定范围", "fine multiple or amount outside the lawful range")
C0803 = Check("C0803", "清缴截止前1个月无计价成交，无法计算平均成交价格", "no counted trades in the month before the deadline: no average price")
C0804 = Check("C0804", "已作出决定，不得重复", "already decided")
C0805 = Check("C0805", "规则包已停止作出新的核减决定", "the rule pack makes no new deduction decisions")
C0806 = Check("C0806", "尚未责令限期改正或改正期限未届满", "no rectification order, or its deadline has not passed")
C0807 = Check("C0807", "已在改正期限内足额清缴，不予核减", "surrendered in full within the rectification period: no deduction")
C0808 = Check("C0808", "须说明决定理由", "a reason for the decision is required")
C0809 = Check("C0809", "尚未到清缴截止日期", "the surrender deadline has not passed")
C0810 = Check("C0810", "规则包未规定改正期限，须在责令改正决定中载明", "the rule pack has no rectification deadline: the order must state one")
C0901 = Check("C0901", "尚未完成清缴，不能出具履约完成证明", "not surrendered in full: no compliance certificate")
C0902 = Check("C0902", "该履约通知书不经省级生态环境主管部门转发", "this compliance notice is not delivered through the province")
C0903 = Check("C0903", "该规则包不允许预支配额", "the rule pack allows no borrowing")
C0904 = Check("C0904", "配额缺口未超过预支门槛", "the allowance gap does not exceed the borrowing threshold")
C0905 = Check("C0905", "预支量超过可预支上限", "the quantity exceeds the borrowing limit")
C0906 = Check("C0906", "存在履约风险的重点排放单位不可预支配额", "an entity at compliance risk may not borrow")
C0907 = Check("C0907", "已超过报送截止日期", "after the submission deadline")
C0908 = Check("C0908", "须附申报材料", "supporting documents are required")
C0909 = Check("C0909", "纾困申请内容不完整", "the relief application is incomplete for its effect")
C0910 = Check("C0910", "无核定配额，无法计算缺口", "no allocation for the year: the gap cannot be computed")
C0911 = Check("C0911", "全部排放设施关停或淘汰后仍存续的重点排放单位不可预支配额", "an entity whose facilities are all shut may not borrow")
C0912 = Check("C0912", "预支配额用于清缴的数量超过预支量", "more borrowed allowances surrendered than were borrowed for the year")
C0913 = Check("C0913", "发放预支配额须使用预支年度的配额", "borrowed allowances are issued in the vintage they are borrowed from")
C0811 = Check(
    "C0811", "欠缴部分已决定从下一年度配额中核减，不再受理清缴申请", "the arrears are being deducted from next year's allocation: no further surrender"
)

# C10xx: the Beijing pilot (rules/packs/beijing/compliance-2023-2024.toml; cn-ets-rules.md §7.2).
C1001 = Check("C1001", "抵销量（碳普惠与CCER合计）超过上限", "offsets (PCER and CCER together) exceed their cap")
C1002 = Check("C1002", "京外项目CCER抵销量超过规则包设定的上限", "CCERs from projects outside Beijing exceed the cap the rule pack sets")
C1003 = Check("C1003", "该品种不可用于本市场履约", "this instrument cannot be used for compliance in this market")
C1004 = Check("C1004", "该规则包未规定到期自动清缴", "the rule pack provides no automatic collection at the deadline")
C1005 = Check("C1005", "自动收缴须在清缴截止日或之后进行", "automatic collection takes place on or after the surrender deadline")
C1006 = Check("C1006", "规则包不是北京履约规则包或不含该年度", "not a Beijing compliance pack for this year")
C1007 = Check("C1007", "履约义务数据有误，未写入任何数据", "the obligation rows have errors; nothing was recorded")
C1008 = Check("C1008", "已过抵销产品使用申请截止日期", "after the deadline for applying to use offsets")

# -- carry-over (结转), 2023–2024 power plan 附5
C0701 = Check("C0701", "不在结转申请期内", "outside the carry-over application period")
C0702 = Check("C0702", "未按时足额完成2023、2024年度清缴，不具备结转资格", "not eligible: 2023 and 2024 surrender not completed on time")
C0703 = Check("C0703", "存在司法冻结配额，须解除冻结后申请", "judicially frozen units: apply after the freeze is lifted")
C0704 = Check("C0704", "超过可结转量", "exceeds the carry-over limit")

# C12xx units that do not report (未按规定报送, Beijing: 京环发〔2024〕8号 五(二); cets.compliance.services.reporting).
C1201 = Check("C1201", "该单位在该年度名录中无此报送义务，或规则包未规定不报送的处理",
              "the unit has no such reporting duty on the year's list, or the pack sets no rule for units that do not report")
C1202 = Check("C1202", "该报告已按时报送或尚未到期，不能责令改正", "the report was filed on time or is not yet due; no order to correct")
C1203 = Check("C1203", "已就该报告责令改正", "an order to correct this report already exists")
C1204 = Check("C1204", "改正期限须晚于责令之日，文号不能为空", "the correction deadline must be after the order's day and the reference may not be empty")
C1205 = Check("C1205", "改正期限未届满，不能处罚", "the correction period has not ended; no fine yet")
C1206 = Check("C1206", "单位已在改正期限内报送，不予处罚", "the unit reported within the correction period; no fine")
C1207 = Check("C1207", "罚款金额须在规则包规定的范围内（分，整数）", "the fine must be whole fen within the pack's range")
C1208 = Check("C1208", "该不报送事项已作出罚款决定", "a fine was already decided for this missing report")
