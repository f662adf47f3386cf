"""What real producers send: other column orders, metadata.* columns, a BOM, CRLF, decomposed
Unicode, booleans in every spelling."""

from __future__ import annotations

import unicodedata

from tests.csv.conftest import write_package
from tests.csv.district import HEADERS, district


def test_reordered_columns_bom_and_crlf(tmp_path, do_import, rows):
    headers = {name: list(reversed(header)) for name, header in HEADERS.items()}
    package = write_package(tmp_path, district(), headers=headers, bom=True, crlf=True)
    report = do_import(package)
    assert report.status == "applied", report.as_dict()
    assert rows("users", "given_name", "family_name", "middle_name")["u-s2"] == (
        "Seán",
        "O'Brien",
        "בן-ציון",
    )
    assert rows("classes", "title", "periods")["cls-1"] == ("Algebra I - P1", ["1", "2"])


def test_metadata_extension_columns_are_kept(tmp_path, do_import, rows):
    data = district()
    data["users"][0]["metadata.homeRoom"] = "B-12"
    data["users"][0]["metadata.nickname"] = "ג'יין"
    headers = {"users": HEADERS["users"] + ["metadata.homeRoom", "metadata.nickname", "shoeSize"]}
    report = do_import(write_package(tmp_path, data, headers=headers))
    assert report.status == "applied", report.as_dict()
    assert report.files["users.csv"].warnings == [
        "column 'shoeSize' is not in OneRoster 1.1; ignored"
    ]
    metadata = rows("users", "metadata")
    assert metadata["u-t1"] == ({"homeRoom": "B-12", "nickname": "ג'יין"},)
    assert metadata["u-s1"] == (None,)


def test_decomposed_unicode_is_stored_as_nfc(tmp_path, do_import, rows):
    data = district()
    decomposed = unicodedata.normalize("NFD", "Seán Ó Briain")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    data["users"][2]["givenName"] = decomposed
    assert do_import(write_package(tmp_path, data)).status == "applied"
    assert rows("users", "given_name")["u-s2"] == ("Seán Ó Briain",)


def test_boolean_spellings(tmp_path, do_import, rows):
    data = district()
    for user, spelling in zip(data["users"], ("true", "FALSE", "1", "0"), strict=True):
        user["enabledUser"] = spelling
    assert do_import(write_package(tmp_path, data)).status == "applied"
    assert rows("users", "enabled_user") == {
        "u-t1": (True,),
        "u-s1": (False,),
        "u-s2": (True,),
        "u-p1": (False,),
    }


def test_quoted_lists_and_values_with_commas(tmp_path, do_import, rows):
    data = district()
    data["courses"][0]["grades"] = "09,10,11"
    data["courses"][0]["title"] = 'Algebra, "Honors"'
    assert do_import(write_package(tmp_path, data)).status == "applied"
    assert rows("oneroster_courses", "grades", "title")["crs-1"] == (
        ["09", "10", "11"],
        'Algebra, "Honors"',
    )


def test_lists_with_spaces_and_date_times_without_zone(tmp_path, do_import, rows):
    data = district()
    data["courses"][0]["grades"] = " 09, 10 ,,11"
    data["courses"][0]["dateLastModified"] = "2026-01-15T10:01:02"
    data["users"][1]["userIds"] = "{LDAP:dcohen}, {SIS:604822}"
    assert do_import(write_package(tmp_path, data)).status == "applied"
    assert rows("oneroster_courses", "grades")["crs-1"] == (["09", "10", "11"],)
    assert rows("users", "user_ids")["u-s1"] == (
        [{"type": "LDAP", "identifier": "dcohen"}, {"type": "SIS", "identifier": "604822"}],
    )


def test_other_files_in_the_package_are_logged_and_ignored(tmp_path, do_import):
    package = write_package(tmp_path, district(), as_zip=False)
    (package / "notes.txt").write_text("exported by SIS 9.2\n", encoding="utf-8")
    report = do_import(package)
    assert report.status == "applied"
    assert report.files["notes.txt"].outcome == "ignored"
    assert report.files["notes.txt"].warnings == ["not a OneRoster 1.1 file; not read"]


def test_a_date_only_date_last_modified_is_accepted_with_a_warning(tmp_path, do_import):
    """1.1 asks for a date-time; a producer that writes only the date is read as midnight UTC,
    and the import report says so (file, how many rows, the first line)."""
    data = district()
    data["users"][1]["dateLastModified"] = "2026-01-15"
    data["users"][3]["dateLastModified"] = "2026-01-16"
    report = do_import(write_package(tmp_path, data))
    assert report.status == "applied", report.as_dict()
    assert report.files["users.csv"].warnings == [
        "dateLastModified: 2 rows give a date without a time (first: line 3); read as midnight UTC"
    ]
    assert report.files["orgs.csv"].warnings == []
