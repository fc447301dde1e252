package io.sparkmerge.exec;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/** A Hadoop configuration as a plain serializable map, so executors open the same FileSystems as the driver. */
public final class HadoopConf implements Serializable {
  private final HashMap<String, String> entries = new HashMap<>();
  private transient Configuration conf;

  public HadoopConf(Configuration conf) {
    for (Map.Entry<String, String> e : conf) {
      entries.put(e.getKey(), e.getValue());
    }
    this.conf = conf;
  }

  public Configuration get() {
    if (conf == null) {
      Configuration c = new Configuration(false);
      entries.forEach(c::set);
      conf = c;
    }
    return conf;
  }
}
