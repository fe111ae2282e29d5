// PropsView prints every key and value of each .properties file given, as java.util.Properties
// loads it (the reference for frontdoor's editor: steps/props/java_test.go), one "key=value" per
// line with both escaped as Java string literals would be, sorted by key.
import java.io.FileInputStream;
import java.util.Properties;
import java.util.TreeMap;

public class PropsView {
    public static void main(String[] args) throws Exception {
        for (String path : args) {
            System.out.println("== " + path);
            Properties p = new Properties();
            try (FileInputStream in = new FileInputStream(path)) {
                p.load(in);
            } catch (IllegalArgumentException e) { // a backslash-u not followed by four hex digits
                System.out.println("error: " + e.getMessage());
                continue;
            }
            TreeMap<String, String> sorted = new TreeMap<>();
            for (String k : p.stringPropertyNames()) sorted.put(k, p.getProperty(k));
            for (var e : sorted.entrySet()) System.out.println(q(e.getKey()) + "=" + q(e.getValue()));
        }
    }

    static String q(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '\\' || c == '=') b.append('\\').append(c);
            else if (c < 0x20 || c > 0x7e) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.toString();
    }
}
