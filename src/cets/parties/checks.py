"""Numbered parties checks: who may act (R0502, shared by every context) and the key-emitter list.

L01xx key-emitter lists (名录): compilation, import and publication (Measures (trial) Art. 8–9;
2025 notice §一).
"""

from cets.core.errors import Check

DENIED = Check("R0502", "无此操作权限或超出管辖范围", "operator lacks the role or jurisdiction")

L0101 = Check("L0101", "该名录已公布，不能重新生成", "the list is already published; it cannot be recompiled")
L0102 = Check("L0102", "行业不在规则包的名录行业中", "sector not among the pack's list sectors")
L0103 = Check("L0103", "名录已公布", "the list is already published")
L0104 = Check("L0104", "名录为空，不能公布", "the list is empty; nothing to publish")
