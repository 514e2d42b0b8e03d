/*
 * Starts DynamoDB Local bound to 127.0.0.1 only.
 *
 * DynamoDB Local has no host option: its DynamoDBProxyServer builds a Jetty Server from the port
 * alone, whose connector listens on every interface. This launcher builds the server exactly as
 * DynamoDB Local's own main class does (ServerRunner.createServerFromCommandLineArgs, same
 * command-line options), sets the host of its Jetty connectors to 127.0.0.1 before they open, and
 * starts it. stand-ins/dynamodb-local.ts compiles it once with the JDK's compiler module and runs it
 * with DynamoDBLocal.jar on the class path.
 *
 * Usage: java -cp <this class>:DynamoDBLocal.jar DynamoDbLocalLoopback <DynamoDB Local options>
 */
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class DynamoDbLocalLoopback {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    // The Jetty server is a private field of DynamoDBProxyServer (no accessor).
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    Connector[] connectors = server.getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector to bind");
    for (Connector connector : connectors) {
      if (!(connector instanceof ServerConnector)) {
        throw new IllegalStateException("unexpected Jetty connector " + connector.getClass().getName());
      }
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    proxy.start();
  }
}
