package io.sparkmerge.analysis;

import java.util.Base64;
import java.util.List;

/** A self-contained HTML page: sections of text, tables and PNG images embedded as data URIs. */
final class HtmlPage {
  private final StringBuilder body = new StringBuilder();
  private final String title;
  private int sections;
  private int images;

  HtmlPage(String title) {
    this.title = title;
  }

  void section(String id, String heading, String text) {
    sections++;
    body.append("<section id=\"").append(esc(id)).append("\">\n<h2>").append(esc(heading)).append("</h2>\n");
    body.append("<p>").append(esc(text)).append("</p>\n");
  }

  /** A PNG chart; null (no data to plot) becomes a note. */
  void image(byte[] png) {
    if (png == null) {
      body.append("<p class=\"none\">(no finite values to plot)</p>\n");
      return;
    }
    images++;
    body.append("<img alt=\"plot\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(png)).append("\">\n");
  }

  void table(List<String> header, List<List<String>> rows) {
    body.append("<table>\n<tr>");
    header.forEach(h -> body.append("<th>").append(esc(h)).append("</th>"));
    body.append("</tr>\n");
    for (List<String> r : rows) {
      body.append("<tr>");
      r.forEach(c -> body.append("<td>").append(esc(c)).append("</td>"));
      body.append("</tr>\n");
    }
    body.append("</table>\n");
  }

  void pre(String text) {
    body.append("<pre>").append(esc(text)).append("</pre>\n");
  }

  int sections() {
    return sections;
  }

  int images() {
    return images;
  }

  String html() {
    return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + esc(title) + "</title>\n<style>\n"
        + "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
        + "th{background:#f3f3f3}img{display:block;margin:1em 0;max-width:100%}pre{background:#f7f7f7;padding:1em;overflow:auto}"
        + ".none{color:#888}\n</style>\n</head>\n<body>\n<h1>" + esc(title) + "</h1>\n" + body + "</body>\n</html>\n";
  }

  static String esc(String s) {
    if (s == null) {
      return "";
    }
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
