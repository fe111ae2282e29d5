// Lab STAND-IN for Confluence's Synchrony (not Atlassian code): the WebSocket URL Confluence's
// editor opens, answering with an echo. Compiled by testdata/lab/build.
import jakarta.websocket.OnMessage;
import jakarta.websocket.server.ServerEndpoint;

@ServerEndpoint("/v1/bayeux-sync1/websocket")
public class SynchronyStandIn {
    @OnMessage
    public String echo(String message) {
        return message;
    }
}
