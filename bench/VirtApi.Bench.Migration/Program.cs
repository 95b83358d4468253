// Migration benchmark (issue 9): live pre-copy against cold migration of a 256 MiB VM with 64 MiB touched.
// The built-in dirty-writer touches 16,384 pages (64 MiB), then writes one page every 21 + 2·D guest
// instructions; the VM is migrated when its harts have retired exactly 2,000,000 instructions (a pause
// point), live at three dirty rates and cold (paused there), under native and trap-and-emulate, over a
// link of 100 guest instructions per page (appsettings Migration:InstructionsPerPage), maxRounds 30,
// stopCopyPages 50. Rounds, pages and downtime in guest instructions are the same on every run; host
// milliseconds are measured (median of 3).
// Reproduce: dotnet run -c Release --project bench/VirtApi.Bench.Migration
using System.Globalization;
using System.Text;
using VirtApi.Guests;
using VirtApi.Hypervisor.Migration;
using VirtApi.Hypervisor.Techniques;
using VirtApi.Hypervisor.Vm;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
const int Pages = 16_384;
const ulong MigrateAt = 2_000_000;
var elf = BenchGuests.Assemble(GuestCatalog.Find("dirty-writer")!.Source);
var link = new MigrationLink();
Console.WriteLine($"256 MiB VM, dirty-writer touching {Pages} pages (64 MiB), migrated at instruction {MigrateAt:N0}; link {link.InstructionsPerPage} instructions/page, chunks of {link.ChunkPages}; median host ms of 3");
Console.WriteLine("mode              migration  instr/write  pages dirtied per 1000 sent  rounds  pages per round                            total pages  stop-copy pages  downtime instr  downtime ms  total ms");
using var scheduler = new VmScheduler(1, 100_000, (_, e) => Console.Error.WriteLine(e));
scheduler.Start();
foreach (var mode in new[] { CpuMode.Native, CpuMode.TrapAndEmulate })
{
    foreach (var (label, delay) in new[] { ("live", 2_000UL), ("live", 90UL), ("live", 10UL), ("cold", 90UL) })
    {
        var perWrite = 21 + (2 * delay);
        var runs = new List<Result>();
        for (var i = 0; i < 3; i++)
        {
            runs.Add(await MigrateAsync(scheduler, elf, mode, label == "live" ? MigrationMode.Live : MigrationMode.Cold, delay));
        }
        var median = runs.OrderBy(r => r.TotalMs).ElementAt(1);
        var report = median.Report;
        if (runs.Any(r => r.Report.TotalPagesSent != report.TotalPagesSent || r.Report.StopAndCopy!.DowntimeInstructions != report.StopAndCopy!.DowntimeInstructions))
        {
            throw new InvalidOperationException("the same migration gave different rounds");
        }
        var perRound = string.Join(" ", report.Rounds.Select(r => r.PagesSent));
        var rate = label == "live" ? $"{1000.0 * link.InstructionsPerPage / perWrite,27:F0}" : $"{"(paused)",27}";
        Console.WriteLine(
            $"{BenchGuests.Name(mode),-17} {label,-10} {perWrite,11} {rate} {report.Rounds.Count,7}  {Shorten(perRound),-42} {report.TotalPagesSent,11} {report.StopAndCopy!.PagesSent,16} {report.StopAndCopy.DowntimeInstructions,15:N0} {median.DowntimeMs,12:F1} {median.TotalMs,9:F1}");
    }
}
Console.WriteLine();
Console.WriteLine("reproduce: dotnet run -c Release --project bench/VirtApi.Bench.Migration");
return 0;

static async Task<Result> MigrateAsync(VmScheduler scheduler, byte[] elf, CpuMode mode, MigrationMode migration, ulong delay)
{
    var memory = mode == CpuMode.Native ? MemoryMode.Direct : MemoryMode.Shadow;
    var spec = new VmSpec(Guid.NewGuid(), "bench", elf, 1, 256, mode, CpuProfile.Riscv, memory, null);
    var worker = scheduler.CreateWorker(spec, new VmStatus(VmState.Created, null, null, 0, 0, 0), new GuestExecutionFactory(), new NoEvents());
    Check(await worker.SendAsync(new LifecycleCommand(VmAction.Boot, MigrateAt)));
    while (!Encoding.ASCII.GetString(worker.Console.Read(0).Bytes).Contains("ready", StringComparison.Ordinal) || worker.Status.State != VmState.Running)
    {
        await Task.Yield();
    }
    // Enough writes to outlast any migration here.
    Check(await worker.SendAsync(new ConsoleInputCommand(Encoding.ASCII.GetBytes($"{Pages} {40_000_000 / (21 + (2 * delay))} {delay}\n"))));
    while (worker.Status.State != VmState.Paused)
    {
        await Task.Delay(1);
    }
    var observer = new Observer();
    var plan = new MigrationPlan(Guid.NewGuid(), migration, spec, 30, 50, 256UL << 8, new MigrationLink());
    var started = System.Diagnostics.Stopwatch.StartNew();
    if (migration == MigrationMode.Live)
    {
        // Queued together, so the worker takes both between the same two slices: pre-copy starts at the pause point exactly.
        var resume = worker.SendAsync(new LifecycleCommand(VmAction.Resume));
        Check(await worker.SendAsync(new MigrateCommand(plan, observer)));
        Check(await resume);
    }
    else
    {
        Check(await worker.SendAsync(new MigrateCommand(plan, observer)));
    }
    var report = await observer.Ended.Task;
    var totalMs = started.Elapsed.TotalMilliseconds;
    Check(await worker.SendAsync(new ShutdownCommand()));
    if (report.Phase != MigrationPhase.Completed)
    {
        throw new InvalidOperationException($"{mode} {migration}: {report.Phase} {report.Error}");
    }
    return new Result(report, report.StopAndCopy!.DowntimeMilliseconds, totalMs);
}

static void Check(VmCommandResult result)
{
    if (!result.Accepted)
    {
        throw new InvalidOperationException($"refused: {result.Refusal} ({result.Status.State})");
    }
}

static string Shorten(string rounds) => rounds.Length <= 42 ? rounds : rounds[..39] + "...";



internal sealed record Result(MigrationReport Report, double DowntimeMs, double TotalMs);

internal sealed class Observer : IMigrationObserver
{
    public TaskCompletionSource<MigrationReport> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void PhaseChanged(Guid migrationId, MigrationPhase phase)
    {
    }

    public void RoundCompleted(Guid migrationId, MigrationRound round)
    {
    }

    void IMigrationObserver.Ended(Guid migrationId, MigrationReport report) => Ended.TrySetResult(report);
}

internal sealed class NoEvents : IVmEventSink
{
    public void Publish(VmEvent vmEvent)
    {
    }
}
