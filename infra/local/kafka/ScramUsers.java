// Gives SCRAM users their passwords (SCRAM-SHA-512 and SCRAM-SHA-256) through Kafka's Admin API, for the local
// stack (packages/local-stack, services/kafka-security.ts). Run as a single-file program with Kafka's jars:
//   java -cp '<kafka libs>/*' ScramUsers.java <bootstrap> <users file>
// The users file holds `user=password` lines (Java properties), so no password is ever on a command line. kafkajs
// cannot alter SCRAM credentials, and Kafka's ConfigCommand alters one user and one mechanism per JVM; this does
// all of them in two requests (a request may alter each user once).
import java.io.FileReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;

public class ScramUsers {
  public static void main(String[] args) throws Exception {
    Properties users = new Properties();
    try (FileReader reader = new FileReader(args[1])) {
      users.load(reader);
    }
    Properties config = new Properties();
    config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    try (Admin admin = Admin.create(config)) {
      for (ScramMechanism mechanism : new ScramMechanism[] {ScramMechanism.SCRAM_SHA_512, ScramMechanism.SCRAM_SHA_256}) {
        List<UserScramCredentialAlteration> alterations = new ArrayList<>();
        for (String user : users.stringPropertyNames()) {
          alterations.add(new UserScramCredentialUpsertion(
              user, new ScramCredentialInfo(mechanism, 8192), users.getProperty(user)));
        }
        admin.alterUserScramCredentials(alterations).all().get();
      }
    }
    System.out.println("SCRAM users ready: " + String.join(", ", users.stringPropertyNames()));
  }
}
