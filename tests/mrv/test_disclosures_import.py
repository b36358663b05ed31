"""Importing the real key-emitter file (data/cets-verification-entities/verification_targets.csv)."""

import pytest

from cets.core.errors import InputError
from cets.mrv.models import VerificationRecord
from cets.mrv.services import disclosures_import as entities_import
from cets.parties.models import EmitterListEntry, ImportBatch, Organisation
from tests.conftest import DATA

REAL = DATA / "cets-verification-entities" / "verification_targets.csv"


@pytest.mark.django_db
def test_real_power_2023_list():
    r = entities_import(path=REAL, sector="power", year=2023)
    assert Organisation.objects.filter(kind="entity").count() == 2104
    assert r.counts["entities_created"] == 2104
    assert EmitterListEntry.objects.filter(year=2023, sector="power").count() == 2104
    # exactly the one invalid code of the file is reported, with file, row and field
    assert [(p.row, p.field, p.value) for p in r.problems] == [(2076, "target_uscc", "91570522087163776E")]
    assert "no province 57" in r.problems[0].en
    assert "57" in r.problems[0].zh
    assert not Organisation.objects.filter(uscc="91570522087163776E").exists()
    # provinces come from the region code (GB/T 2260): Zhejiang and Shandong are the largest
    assert Organisation.objects.filter(kind="entity", province="33").count() > Organisation.objects.filter(kind="entity", province="11").count()
    assert VerificationRecord.objects.filter(year=2023, sector="power").count() == 3002
    assert VerificationRecord.objects.filter(year=2023, sector="power", conforming=False).count() == 97
    # re-running creates no duplicates
    r2 = entities_import(path=REAL, sector="power", year=2023)
    assert r2.counts["entities_created"] == 0
    assert r2.counts["list_entries_created"] == 0
    assert r2.counts["verification_records_created"] == 0
    assert Organisation.objects.filter(kind="entity").count() == 2104
    assert ImportBatch.objects.count() == 2


@pytest.mark.django_db
def test_whole_file_all_years_and_sectors():
    r = entities_import(path=REAL)
    assert r.counts["entities"] == 5048  # 5,049 distinct codes in the file, one invalid
    assert len(r.problems) == 1


@pytest.mark.django_db
def test_bad_rows_reported_and_skipped(tmp_path):
    f = tmp_path / "list.csv"
    header = "verification_list_id,year,industry,institution_name,institution_uscc,target_order,target_entity_name,target_uscc,timeliness,result\n"
    f.write_text(header +
                 "V1,2023,发电,机构,91310104744923836T,1,好单位,913700001630435316,及时,符合\n"
                 "V1,20x3,发电,机构,91310104744923836T,2,坏年份,91370100163155357D,及时,符合\n"
                 "V1,2023,发电,机构,91310104744923836T,3,坏代码,91370100163155357E,及时,符合\n"
                 "V1,2023,炼丹,机构,91310104744923836T,4,坏行业,91370100163155357D,及时,符合\n"
                 "V1,2023,发电,机构,91310104744923836T,5,坏结论,91370100163155357D,及时,也许\n", encoding="utf-8")
    r = entities_import(path=f, sector="power", year=2023)
    assert [(p.row, p.field) for p in r.problems] == [(3, "year"), (4, "target_uscc"), (5, "industry"), (6, "result")]
    assert all(p.file == "list.csv" and p.zh and p.en for p in r.problems)
    assert list(Organisation.objects.filter(kind="entity").values_list("uscc", flat=True)) == ["913700001630435316"]


@pytest.mark.django_db
def test_missing_column_refuses_the_file_and_writes_nothing(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("year,industry,target_uscc\n2023,发电,913700001630435316\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        entities_import(path=f)
    assert "target_entity_name" in str(e.value)
    assert Organisation.objects.count() == 0
    assert ImportBatch.objects.count() == 0


@pytest.mark.django_db
def test_command_reports_file_row_field_and_reason(capsys):
    from cets.cli import cmd_import_entities

    class Args:
        file, sector, year = str(REAL), "power", 2023

    assert cmd_import_entities(Args) == 0
    out = capsys.readouterr().out
    assert "verification_targets.csv:2076 [target_uscc='91570522087163776E'] invalid unified social credit code" in out
    assert "统一社会信用代码无效" in out
    assert "entities_created: 2,104" in out
