from tests.conftest import client_for


def test_member_reaches_their_school_and_not_the_other(school_a, school_b):
    client = client_for(school_a.teacher, school_a.host)
    assert client.get("/").status_code == 200
    other = client_for(school_a.teacher, school_b.host)
    assert other.get("/").status_code in (403, 404)


def test_the_landing_page_offers_both_ways_in(school_a, settings):
    page = client_for(None, settings.BASE_DOMAIN).get("/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "<h1>Teach music with video</h1>" in content
    assert "I'm a teacher" in content and 'href="/signup/teacher/"' in content
    assert "I'm setting up a school" in content and 'href="/signup/school/"' in content
    assert 'href="/accounts/login/"' in content


def test_a_suspended_tenant_shows_a_clear_notice(school_a):
    from tenants import services

    services.tenant_suspend(tenant=school_a.tenant, actor=school_a.owner, reason="test")
    page = client_for(school_a.student, school_a.host).get("/")
    assert page.status_code == 403
    content = page.content.decode()
    assert "School A is suspended" in content
    assert "Nothing has been deleted" in content
    assert "/manage/" not in content


def test_a_suspended_tenants_notice_can_show_its_logo(school_a):
    # The notice's header shows the school's logo: the request for that file must not be
    # answered with the notice itself (a broken image).
    from tenants import services

    school_a.tenant.logo.name = f"tenants/{school_a.tenant.public_id}/branding/logo-test.png"
    school_a.tenant.save(update_fields=["logo"])
    services.tenant_suspend(tenant=school_a.tenant, actor=school_a.owner, reason="test")
    client = client_for(school_a.student, school_a.host)
    notice = client.get("/").content.decode()
    assert f'src="{school_a.tenant.logo.url}"' in notice
    logo = client.get(school_a.tenant.logo.url)
    assert logo.status_code != 403
    assert b"is suspended" not in b"".join(getattr(logo, "streaming_content", [logo.content]))
