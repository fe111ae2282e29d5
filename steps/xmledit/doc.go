// Package xmledit owns format-preserving edits of XML configuration files (Tomcat server.xml,
// Fisheye config.xml). It never re-serialises a document: it scans the bytes to find elements and
// the byte spans of their attributes, outside comments, CDATA, processing instructions and the
// DOCTYPE, and splices only those spans. Comments, attribute order, quoting, indentation, line
// endings, a BOM, the DOCTYPE and character references elsewhere all survive byte for byte.
// Edits are pure functions of the input bytes and idempotent.
package xmledit
