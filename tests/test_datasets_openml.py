"""load_openml and the ARFF reader.

OpenML cannot be reached from the test machine, so a local HTTP server stands in for it: the
module's API base URL (``fairx.data._openml.OPENML_API``) is pointed at the server, which
serves a dataset description JSON (in OpenML's format) and the ARFF file it links to. The
code path is otherwise the real one (HTTP download, md5 check, cache, ARFF parsing).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading

import pytest

from fairx.data import DatasetError, load_openml
from fairx.data import _openml as openml_module
from fairx.data._arff import read_arff

ARFF = """% a small stand-in for OpenML 45040 (Intersectional Bias Assessment)
@RELATION 'IBA test'

@ATTRIBUTE row_id NUMERIC
@ATTRIBUTE 'Sex' {Female, Male}
@ATTRIBUTE Race {'White', 'Black', 'Asian'}
@ATTRIBUTE Housing {Stable, Unstable}
@ATTRIBUTE Delay NUMERIC
@ATTRIBUTE Anhedonia REAL
@ATTRIBUTE comment STRING
@ATTRIBUTE Diagnosis {0, 1}

@DATA
1,Female,'White',Stable,0,1.5,'a note, with comma',1
2,Male,'Black',Unstable,1,2.0,plain,0
% a comment line inside the data
3,Female,'Asian',Stable,0,?,plain,0
4,Male,'White',Stable,1,0.5,plain,1
5,Female,'Black',Unstable,0,3.0,plain,1
6,Male,'Asian',Stable,1,1.0,plain,0
7,Female,'White',Stable,1,2.5,plain,1
"""
MD5 = hashlib.md5(ARFF.encode()).hexdigest()


def _description(base: str, md5: str = MD5) -> dict:
    return {"data_set_description": {
        "id": "45040", "name": "IBA_Depression", "version": "1", "format": "ARFF",
        "file_id": "22111925", "url": f"{base}/data/v1/download/22111925/IBA.arff",
        "md5_checksum": md5, "default_target_attribute": "Diagnosis",
        "row_id_attribute": "row_id", "ignore_attribute": ["comment"], "status": "active"}}


class _FakeOpenML(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes]] = {}
    hits: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        self.hits.append(self.path)
        status, body = self.routes.get(self.path, (404, b'{"error": {"code": "111"}}'))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def fake_openml(monkeypatch):
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenML)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    _FakeOpenML.hits = []
    _FakeOpenML.routes = {
        "/api/v1/json/data/45040": (200, json.dumps(_description(base)).encode()),
        "/data/v1/download/22111925/IBA.arff": (200, ARFF.encode()),
        "/api/v1/json/data/99": (200, json.dumps(_description(base, md5="0" * 32)).encode()),
    }
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(openml_module, "OPENML_API", f"{base}/api/v1/json")
    yield _FakeOpenML
    httpd.shutdown()
    httpd.server_close()


def test_load_openml_downloads_caches_and_types(fake_openml, tmp_path, monkeypatch):
    ds = load_openml(45040, sensitive=["Sex", "Housing"], data_home=tmp_path)
    assert ds.target == "Diagnosis" and ds.positive_label == "1" and ds.name == "IBA_Depression"
    assert len(ds) == 6  # the row with a missing Anhedonia is dropped
    assert "row_id" not in ds.frame and "comment" not in ds.frame
    assert {"Sex", "Race", "Housing", "Diagnosis"} <= set(ds.categorical)
    assert ds.numerical == ["Delay", "Anhedonia"]
    summary = ds.group_summary().set_index(["attribute", "group"])
    assert summary.loc[("Sex", "Female"), "size"] == 3
    assert summary.loc[("Sex", "Female"), "positive_rate"] == 1.0
    assert summary.loc[("Sex", "Male"), "positive_rate"] == pytest.approx(1 / 3)
    cache = tmp_path / "openml" / "45040"
    assert sorted(p.name for p in cache.iterdir()) == ["22111925.arff", "description.json"]
    # second load: everything from the cache, even with the API unreachable
    n_hits = len(fake_openml.hits)
    monkeypatch.setattr(openml_module, "OPENML_API", "http://127.0.0.1:9/api/v1/json")
    again = load_openml(45040, target="Diagnosis", sensitive="Sex", data_home=tmp_path)
    assert len(again) == 6 and len(fake_openml.hits) == n_hits


def test_openml_md5_mismatch_is_rejected(fake_openml, tmp_path):
    with pytest.raises(DatasetError, match="md5 is .*expected 0{32}"):
        load_openml(99, sensitive="Sex", data_home=tmp_path)


def test_openml_unknown_id_and_offline(fake_openml, tmp_path, monkeypatch):
    with pytest.raises(DatasetError, match="could not download openml/12345/description.json"):
        load_openml(12345, sensitive="Sex", data_home=tmp_path)
    with pytest.raises(DatasetError, match="integer"):
        load_openml("adult", sensitive="sex", data_home=tmp_path)
    monkeypatch.setattr(openml_module, "OPENML_API", "http://127.0.0.1:9/api/v1/json")
    with pytest.raises(DatasetError) as err:
        load_openml(45040, sensitive="Sex", data_home=tmp_path)
    assert str(tmp_path / "openml" / "45040" / "description.json") in str(err.value)


def test_corrupt_cached_description_is_refetched(fake_openml, tmp_path):
    cached = tmp_path / "openml" / "45040" / "description.json"
    cached.parent.mkdir(parents=True)
    cached.write_text("{not json")
    ds = load_openml(45040, sensitive="Sex", data_home=tmp_path)
    assert len(ds) == 6 and json.loads(cached.read_text())["data_set_description"]["id"] == "45040"


def test_read_arff_values_and_kinds(tmp_path):
    path = tmp_path / "t.arff"
    path.write_text(ARFF)
    frame, kinds = read_arff(path)
    assert kinds == {"row_id": "numeric", "Sex": "nominal", "Race": "nominal", "Housing": "nominal",
                     "Delay": "numeric", "Anhedonia": "numeric", "comment": "string",
                     "Diagnosis": "nominal"}
    assert frame.shape == (7, 8)
    assert frame.loc[0, "comment"] == "a note, with comma" and frame.loc[1, "Race"] == "Black"
    assert frame["Anhedonia"].isna().sum() == 1 and frame["Diagnosis"].tolist()[:2] == ["1", "0"]
    bad = tmp_path / "bad.arff"
    bad.write_text("@relation x\n@attribute a numeric\n")
    with pytest.raises(DatasetError, match="no @data"):
        read_arff(bad)
    sparse = tmp_path / "sparse.arff"
    sparse.write_text("@relation x\n@attribute a numeric\n@data\n{0 1}\n")
    with pytest.raises(DatasetError, match="sparse"):
        read_arff(sparse)
