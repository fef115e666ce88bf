from provsieve.transforms.extract import charset_of, extract_text, looks_binary, media_type


def test_media_type_and_charset():
    assert media_type("Text/HTML; charset=UTF-8") == "text/html"
    assert charset_of('text/html; charset="windows-1251"') == "windows-1251"
    assert charset_of("text/html") is None


def test_html_main_text_drops_markup():
    html = b"<html><head><title>t</title><script>var x=1;</script></head><body><nav>Home | About</nav>" \
           b"<article><p>The quick brown fox jumps over the lazy dog near the river bank.</p></article></body></html>"
    result = extract_text(html, "text/html; charset=utf-8")
    assert result.reject_reason is None
    assert "quick brown fox" in result.text
    assert "var x" not in result.text and "<p>" not in result.text
    assert result.html is not None


def test_declared_charset_is_used():
    html = "<html><body><p>Пожарная безопасность — это важно для каждого предприятия.</p></body></html>"
    result = extract_text(html.encode("windows-1251"), "text/html; charset=windows-1251")
    assert "Пожарная безопасность" in result.text


def test_undeclared_charset_is_detected():
    html = "<html><body><p>廃盤になった商品です。注文はできません。ブラウニー ブリーフケース</p></body></html>"
    result = extract_text(html.encode("euc-jp"), None)
    assert "廃盤になった商品です" in result.text


def test_binary_payloads_are_rejected():
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    assert looks_binary(png)
    assert extract_text(png, "text/html").reject_reason == "binary_content"
    assert extract_text(b"%PDF-1.4 ...", "application/pdf").reject_reason == "binary_content"
    assert extract_text(b"hello", "image/jpeg").reject_reason == "binary_content"


def test_empty_and_whitespace_pages():
    assert extract_text(b"<html><body>  \n </body></html>", "text/html").reject_reason == "empty_text"
    assert extract_text(b"   \n\t ", "text/plain").reject_reason == "empty_text"


def test_undecodable_bytes_are_bad_encoding():
    garbage = bytes(range(0x80, 0x100)) * 20
    result = extract_text(garbage, "text/plain; charset=utf-8")
    assert result.reject_reason == "bad_encoding"
    assert "undecodable" in result.reject_detail


def test_a_few_invalid_bytes_are_repaired_not_rejected():
    text = ("A perfectly ordinary paragraph of English text about gardens and rivers. " * 20).encode()
    broken = text[:500] + b"\xff\xfe" + text[500:]
    result = extract_text(broken, "text/plain; charset=utf-8")
    assert result.reject_reason is None
    assert "ordinary paragraph" in result.text
