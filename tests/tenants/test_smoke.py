from tests.conftest import client_for


def test_member_reaches_their_school_and_not_the_other(school_a, school_b):
    client = client_for(school_a.teacher, school_a.host)
    assert client.get("/").status_code == 200
    other = client_for(school_a.teacher, school_b.host)
    assert other.get("/").status_code in (403, 404)
