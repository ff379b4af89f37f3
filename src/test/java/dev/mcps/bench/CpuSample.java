package dev.mcps.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time used so far by this JVM, by the watched processes and by the whole machine. Other processes are read
 * from {@code /proc/PID/stat} (utime + stime, every thread included) in USER_HZ ticks, which Linux fixes at 100 per
 * second on every architecture it exports them for.
 */
record CpuSample(long nanoTime, long clientNanos, Map<String, Long> processTicks, long machineBusyTicks) {

  private static final double TICKS_PER_SECOND = 100.0;

  static CpuSample take(Map<String, Long> pids) {
    Map<String, Long> ticks = new LinkedHashMap<>();
    pids.forEach((name, pid) -> ticks.put(name, readProcessTicks(pid)));
    long client = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime() : -1;
    return new CpuSample(System.nanoTime(), client, ticks, readMachineBusyTicks());
  }

  Map<String, Double> percentSince(CpuSample before) {
    double seconds = (nanoTime - before.nanoTime) / 1e9;
    Map<String, Double> out = new LinkedHashMap<>();
    if (clientNanos >= 0 && before.clientNanos >= 0) {
      out.put("client", 100.0 * (clientNanos - before.clientNanos) / 1e9 / seconds);
    }
    processTicks.forEach((name, ticks) -> {
      Long was = before.processTicks.get(name);
      if (ticks >= 0 && was != null && was >= 0) {
        out.put(name, 100.0 * (ticks - was) / TICKS_PER_SECOND / seconds);
      }
    });
    if (machineBusyTicks >= 0 && before.machineBusyTicks >= 0) {
      out.put("machine", 100.0 * (machineBusyTicks - before.machineBusyTicks) / TICKS_PER_SECOND / seconds);
    }
    return out;
  }

  private static long readProcessTicks(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // The command name (field 2) is in parentheses and may hold spaces; count fields after its closing one.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long readMachineBusyTicks() {
    try {
      String cpu = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = cpu.trim().split("\\s+");
      long busy = 0;
      // user nice system idle iowait irq softirq steal: everything but idle and iowait is work.
      for (int i = 1; i <= Math.min(8, f.length - 1); i++) {
        if (i != 4 && i != 5) {
          busy += Long.parseLong(f[i]);
        }
      }
      return busy;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
