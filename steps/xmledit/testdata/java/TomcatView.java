// TomcatView prints what Tomcat's server.xml parsing sees in each file given: the JDK's SAX
// parser (Xerces, as Tomcat's Digester uses it: not namespace-aware, not validating) reads the
// file, and every <Connector> and every <Context> inside a <Host> is printed with its Service
// and the attributes frontdoor edits, decoded. A file the parser refuses prints "error: ...".
// It is the reference frontdoor's editor is checked against (steps/xmledit/java_test.go).
import java.io.File;
import java.util.ArrayDeque;
import java.util.Deque;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.Attributes;
import org.xml.sax.helpers.DefaultHandler;

public class TomcatView {
    public static void main(String[] args) throws Exception {
        SAXParserFactory f = SAXParserFactory.newInstance();
        f.setNamespaceAware(false);
        f.setValidating(false);
        for (String path : args) {
            System.out.println("== " + path);
            StringBuilder out = new StringBuilder();
            try {
                SAXParser p = f.newSAXParser();
                p.parse(new File(path), new DefaultHandler() {
                    final Deque<String> stack = new ArrayDeque<>();
                    String service = "";
                    @Override public void startElement(String uri, String local, String q, Attributes a) {
                        if (q.equals("Service")) service = v(a, "name");
                        if (q.equals("Connector") && "Service".equals(stack.peek())) {
                            out.append("connector service=").append(service)
                               .append(" port=").append(v(a, "port")).append(" protocol=").append(v(a, "protocol"))
                               .append(" SSLEnabled=").append(v(a, "SSLEnabled")).append(" scheme=").append(v(a, "scheme"))
                               .append(" secure=").append(v(a, "secure")).append(" proxyName=").append(v(a, "proxyName"))
                               .append(" proxyPort=").append(v(a, "proxyPort")).append('\n');
                        }
                        if (q.equals("Context") && "Host".equals(stack.peek())) {
                            out.append("context service=").append(service).append(" path=").append(v(a, "path"))
                               .append(" docBase=").append(v(a, "docBase")).append('\n');
                        }
                        stack.push(q);
                    }
                    @Override public void endElement(String uri, String local, String q) { stack.pop(); }
                });
                System.out.print("ok\n" + out);
            } catch (Exception e) {
                System.out.println("error: " + String.valueOf(e.getMessage()).replace('\n', ' '));
            }
        }
    }

    static String v(Attributes a, String name) {
        String s = a.getValue(name);
        return s == null ? "-" : s.replace("\\", "\\\\").replace(" ", "\\s");
    }
}
