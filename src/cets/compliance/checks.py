"""Numbered checks of the compliance context (C08xx penalties, C09xx notices and borrowing). The carry-over
checks C0701–C0704 live in :mod:`cets.compliance.carryover`; surrender refusals use the registry's R06xx."""

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
