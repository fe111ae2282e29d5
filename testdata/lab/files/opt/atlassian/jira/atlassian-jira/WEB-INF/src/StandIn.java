// Lab STAND-IN for Jira, Confluence and Bitbucket (not Atlassian code): answers the few URLs
// frontdoor looks at, the way the products do, so a rollout can be proven on a real Tomcat. The
// servlet's init-param "product" says which one it plays (default jira); serverInfo and the Base
// URL API are Jira's only. Compiled by testdata/lab/build with the
// Eclipse compiler that Debian's tomcat10 ships for JSPs (the image has no JDK).
//
//   GET  /                        302 to an ABSOLUTE URL built from getScheme/getServerName/
//                                 getServerPort/getContextPath, as Jira builds links: the Connector's
//                                 proxyName/proxyPort/scheme and the Context path show up in Location.
//   GET  /secure/Dashboard.jspa   200, HTML
//   GET  /status                  {"state":"RUNNING"}
//   GET  /rest/api/2/serverInfo   Jira's fields; baseUrl is a stored setting (Jira: database; here:
//                                 <jira home>/frontdoor-standin-baseurl; first value http://<host>:8080)
//   PUT  /rest/api/2/settings/baseUrl   body: a JSON string; basic auth admin:<jira home>/frontdoor-standin-admin
//   GET  /whoami                  what Tomcat reports about the request (for tests)
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;

public class StandIn extends HttpServlet {
    private String product() {
        String p = getInitParameter("product");
        return p == null ? "jira" : p;
    }

    private static Path home() {
        return Paths.get(System.getProperty("jira.home", "/var/atlassian/application-data/jira"));
    }

    private static String baseUrl() throws IOException {
        Path p = home().resolve("frontdoor-standin-baseurl");
        if (!Files.exists(p)) {
            return "http://" + java.net.InetAddress.getLocalHost().getHostName() + ":8080";
        }
        return new String(Files.readAllBytes(p), StandardCharsets.UTF_8).trim();
    }

    private static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }

    private static String path(HttpServletRequest req) {
        String p = req.getServletPath() + (req.getPathInfo() == null ? "" : req.getPathInfo());
        return p.isEmpty() ? "/" : p;
    }

    private static void send(HttpServletResponse resp, int status, String type, String body) throws IOException {
        resp.setStatus(status);
        resp.setContentType(type);
        resp.setCharacterEncoding("UTF-8");
        resp.getWriter().write(body);
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String scheme = req.getScheme();
        int port = req.getServerPort();
        boolean dflt = ("http".equals(scheme) && port == 80) || ("https".equals(scheme) && port == 443);
        String self = scheme + "://" + req.getServerName() + (dflt ? "" : ":" + port) + req.getContextPath();
        switch (path(req)) {
            case "/":
                resp.setStatus(302);
                resp.setHeader("Location", self + "/secure/Dashboard.jspa");
                return;
            case "/secure/Dashboard.jspa":
                send(resp, 200, "text/html", "<!DOCTYPE html><html><head><title>Dashboard - " + product() + " (frontdoor lab stand-in)</title></head><body><h1>Dashboard</h1></body></html>\n");
                return;
            case "/status":
                send(resp, 200, "application/json", "{\"state\":\"RUNNING\"}");
                return;
            case "/rest/api/2/serverInfo":
                if (!"jira".equals(product())) {
                    send(resp, 404, "application/json", "{\"errorMessages\":[\"not found\"]}");
                    return;
                }
                send(resp, 200, "application/json", "{\"baseUrl\":" + json(baseUrl()) + ",\"version\":\"9.15.0\",\"versionNumbers\":[9,15,0],"
                        + "\"deploymentType\":\"Server\",\"buildNumber\":915000,\"buildDate\":\"2024-04-02T00:00:00.000+0000\","
                        + "\"scmInfo\":\"frontdoor-lab-standin\",\"serverTitle\":\"Jira (frontdoor lab stand-in)\"}");
                return;
            case "/whoami":
                send(resp, 200, "application/json", "{\"scheme\":" + json(scheme) + ",\"serverName\":" + json(req.getServerName())
                        + ",\"serverPort\":" + port + ",\"secure\":" + req.isSecure() + ",\"contextPath\":" + json(req.getContextPath())
                        + ",\"requestURL\":" + json(req.getRequestURL().toString()) + ",\"remoteAddr\":" + json(req.getRemoteAddr())
                        + ",\"xForwardedFor\":" + json(String.valueOf(req.getHeader("X-Forwarded-For"))) + "}");
                return;
            default:
                send(resp, 404, "application/json", "{\"errorMessages\":[\"not found\"]}");
        }
    }

    @Override
    protected void doPut(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (!"/rest/api/2/settings/baseUrl".equals(path(req))) {
            send(resp, 405, "application/json", "{\"errorMessages\":[\"method not allowed\"]}");
            return;
        }
        String auth = req.getHeader("Authorization");
        if (auth == null || !auth.startsWith("Basic ")) {
            resp.setHeader("WWW-Authenticate", "Basic realm=\"protected-area\"");
            send(resp, 401, "application/json", "{\"errorMessages\":[\"authentication required\"]}");
            return;
        }
        String got = new String(java.util.Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
        Path pw = home().resolve("frontdoor-standin-admin");
        String want = Files.exists(pw) ? new String(Files.readAllBytes(pw), StandardCharsets.UTF_8).trim() : null;
        if (want == null || !got.equals("admin:" + want)) {
            send(resp, 401, "application/json", "{\"errorMessages\":[\"wrong user name or password\"]}");
            return;
        }
        String v = new String(req.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (v.length() < 2 || v.charAt(0) != '"' || v.charAt(v.length() - 1) != '"') {
            send(resp, 400, "application/json", "{\"errorMessages\":[\"body must be a JSON string\"]}");
            return;
        }
        v = v.substring(1, v.length() - 1).replace("\\/", "/");
        if (!v.matches("https?://[^\\s\"\\\\]+")) {
            send(resp, 400, "application/json", "{\"errorMessages\":[\"not an absolute http(s) URL\"]}");
            return;
        }
        Path tmp = home().resolve("frontdoor-standin-baseurl.tmp");
        Files.write(tmp, (v + "\n").getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, home().resolve("frontdoor-standin-baseurl"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        resp.setStatus(204);
    }
}
