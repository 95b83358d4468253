// Device benchmark (issue 8): guest disk throughput and VMM exits per MiB for each device model, in one run.
// The built-in demo-devices guest, with DEMO_SECTORS raised to 4096 (2 MiB), reads its disk, writes it, and
// reads it back (6 MiB moved), under trap-and-emulate with one disk of each model in turn, on a hosted
// host; the split disk is run on a bare-metal host too. Throughput = payload bytes the device counted /
// host seconds of the whole run (median of 5; guest start-up and probing included, so it is a floor).
// Exits per MiB = the VMM's exits to that disk / MiB it moved. A native run is the no-VMM baseline.
// Reproduce: dotnet run -c Release --project bench/VirtApi.Bench.Devices
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using VirtApi.Guests;
using VirtApi.Hypervisor.Devices;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
const int Sectors = 4096;
var source = Regex.Replace(GuestCatalog.Find("demo-devices")!.Source, @"\.equ\s+DEMO_SECTORS\s*,\s*\d+", $".equ DEMO_SECTORS, {Sectors}");
if (!source.Contains($"DEMO_SECTORS, {Sectors}", StringComparison.Ordinal))
{
    throw new InvalidOperationException("demo-devices has no `.equ DEMO_SECTORS, N` line to raise");
}
var elf = BenchGuests.Assemble(source);
var folder = Directory.CreateTempSubdirectory("virtapi-bench-devices-").FullName;
try
{
    Console.WriteLine($"demo-devices, {Sectors} sectors ({Sectors / 2048} MiB) read, written and read back per disk; median of 5 runs");
    Console.WriteLine("mode              model        host        MiB moved    host ms    MiB/s   exits    exits/MiB   direct/MiB   requests   notifications   back-end Mcycles");
    foreach (var (mode, model, host) in new[]
    {
        (CpuMode.Native, DeviceModel.Emulated, HypervisorType.Hosted),
        (CpuMode.Native, DeviceModel.Split, HypervisorType.Hosted),
        (CpuMode.TrapAndEmulate, DeviceModel.Emulated, HypervisorType.Hosted),
        (CpuMode.TrapAndEmulate, DeviceModel.Split, HypervisorType.Hosted),
        (CpuMode.TrapAndEmulate, DeviceModel.Split, HypervisorType.BareMetal),
        (CpuMode.TrapAndEmulate, DeviceModel.Passthrough, HypervisorType.Hosted),
    })
    {
        var runs = Enumerable.Range(0, 5).Select(i => Run(elf, mode, model, host, Path.Combine(folder, $"{mode}-{model}-{host}-{i}.img"))).OrderBy(r => r.Ms).ToList();
        var median = runs[runs.Count / 2];
        var d = median.Device;
        var mib = d.Bytes / 1048576.0;
        Console.WriteLine($"{BenchGuests.Name(mode),-17} {BenchGuests.Name(model),-12} {BenchGuests.Name(host),-10} {mib,10:F2} {median.Ms,10:F1} {mib / (median.Ms / 1000),8:F1} {d.Exits,7} {d.Exits / mib,12:F1} {d.DirectAccesses / mib,12:F1} {d.Requests,10} {d.Notifications,15} {d.BackEndCycles / 1e6,18:F2}");
    }
    Console.WriteLine();
    Console.WriteLine("reproduce: dotnet run -c Release --project bench/VirtApi.Bench.Devices");
    return 0;
}
finally
{
    Directory.Delete(folder, recursive: true);
}



static Sample Run(byte[] elf, CpuMode mode, DeviceModel model, HypervisorType host, string disk)
{
    var name = model == DeviceModel.Split ? "virtio-blk0" : "ata0";
    VmDeviceSpec[] devices = [new(Guid.NewGuid(), name, DeviceKind.Block, model, 0, new DiskBacking(disk, 4L << 20))];
    var spec = new VmSpec(Guid.NewGuid(), "bench", elf, 1, 64, mode, CpuProfile.Riscv, mode == CpuMode.Native ? MemoryMode.Direct : MemoryMode.Shadow, null, devices, host);
    var console = new Transcript();
    var stopwatch = Stopwatch.StartNew();
    VmStatistics statistics;
    using (var execution = new GuestExecutionFactory().Boot(spec, console))
    {
        GuestRunResult result;
        do
        {
            result = execution.Run(10_000_000);
        }
        while (result.Outcome == GuestRunOutcome.SliceDone);
        stopwatch.Stop();
        statistics = execution.CaptureStatistics();
        if (result.Outcome != GuestRunOutcome.PoweredOff || result.ExitCode != 0 || !console.Text.Contains("done 1", StringComparison.Ordinal) || console.Text.Contains("error", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{mode} {model}: the guest did not finish cleanly: {result} {console.Text}");
        }
    }
    File.Delete(disk);
    return new Sample(stopwatch.Elapsed.TotalMilliseconds, statistics.Devices!.Single(d => d.Name == name));
}

internal sealed record Sample(double Ms, VmDeviceStatistics Device);

internal sealed class Transcript : IConsoleOutput
{
    private readonly System.Text.StringBuilder _text = new();

    public string Text => _text.ToString();

    public void Write(byte value) => _text.Append((char)value);
}
