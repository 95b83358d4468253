// Benchmarks of snapshots (issue 7), against the real server process over HTTP, for a VM whose guest
// has filled 64 MiB of its memory with pseudo-random data (pages that neither compress nor de-duplicate:
// the worst case for the store):
//   capture latency: POST snapshot → 201 (capture at an instruction boundary, hash, compress, store);
//   diff size: bytes a diff stores after the guest rewrote 1 MiB;
//   restore latency: POST restore → 200 (read back, check every hash, rebuild the machine);
//   storage growth for 100 clones of one snapshot.
// Reproduce: dotnet build -c Release src/VirtApi && dotnet run -c Release --project bench/VirtApi.Bench.Snapshots
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using VirtApi.Bench;

// Fills 16384 pages (64 MiB) above the image with an LCG's output, prints 'r', then each time a byte
// arrives on the UART rewrites the first 256 pages (1 MiB) with new values and prints 'd'.
const string Guest = """
    .globl _start
    _start:
        li s0, 0x10000000
        li s1, 0x80100000
        li s4, 88172645463325252
        li a0, 6364136223846793005
        li a1, 1442695040888963407
        li s2, 16384
        call fill
        li t3, 114
        sb t3, 0(s0)
    wait:
        lbu t1, 5(s0)
        andi t1, t1, 1
        beqz t1, wait
        lbu t2, 0(s0)
        li s2, 256
        call fill
        li t3, 100
        sb t3, 0(s0)
        j wait
    # fill s2 pages from s1 with the LCG in s4
    fill:
        mv t0, s1
        slli t1, s2, 9
    1:  mul s4, s4, a0
        add s4, s4, a1
        sd s4, 0(t0)
        addi t0, t0, 8
        addi t1, t1, -1
        bnez t1, 1b
        ret
    """;

await using var bench = await BenchServer.StartAsync();
if (bench is null)
{
    return 2;
}
var client = bench.Client;
var image = await bench.CreateImageAsync("fill64", Guest);
var inv = CultureInfo.InvariantCulture;

foreach (var mode in new[] { "native", "trap-and-emulate" })
{
    var vm = await CreateVmAsync($"fill-{mode}", new { name = $"fill-{mode}", imageId = image, memoryMiB = 128, cpu = new { mode } });
    (await client.PostAsync($"/api/v1/vms/{vm}/boot", null)).EnsureSuccessStatusCode();
    await WaitForConsoleAsync(vm, "r");
    (await client.PostAsync($"/api/v1/vms/{vm}/pause", null)).EnsureSuccessStatusCode();
    var frames = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/stats")).GetProperty("framesTouched").GetUInt64();

    var (firstMs, full) = await TimeAsync(() => SnapshotAsync(vm, "full-0", "full"));
    var warm = new List<double>();
    for (var i = 1; i <= 5; i++)
    {
        warm.Add((await TimeAsync(() => SnapshotAsync(vm, $"full-{i}", "full"))).Ms);
    }
    Console.WriteLine(string.Create(inv, $"[{mode}] 64 MiB touched ({frames} frames): full capture {firstMs:F0} ms with every page new ({full.GetProperty("pagesNewlyStored").GetInt32()} pages, {full.GetProperty("bytesStored").GetInt64() / 1048576.0:F1} MiB stored); {Median(warm):F0} ms median of 5 when the pages are stored already"));

    (await client.PostAsJsonAsync($"/api/v1/vms/{vm}/resume", new { })).EnsureSuccessStatusCode();
    (await client.PostAsJsonAsync($"/api/v1/vms/{vm}/console", new { input = "w" })).EnsureSuccessStatusCode();
    await WaitForConsoleAsync(vm, "rd");
    (await client.PostAsync($"/api/v1/vms/{vm}/pause", null)).EnsureSuccessStatusCode();
    var (diffMs, diff) = await TimeAsync(() => SnapshotAsync(vm, "after-1mib", "diff"));
    Console.WriteLine(string.Create(inv, $"[{mode}] diff after the guest rewrote 1 MiB: {diff.GetProperty("pagesReferenced").GetInt32()} pages referenced, {diff.GetProperty("bytesStored").GetInt64() / 1048576.0:F2} MiB stored, captured in {diffMs:F0} ms"));

    (await client.PostAsync($"/api/v1/vms/{vm}/stop", null)).EnsureSuccessStatusCode();
    var restores = new List<double>();
    for (var i = 0; i < 5; i++)
    {
        restores.Add((await TimeAsync(async () =>
        {
            var response = await client.PostAsync($"/api/v1/snapshots/{full.GetProperty("id").GetGuid()}/restore", null);
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        })).Ms);
    }
    Console.WriteLine(string.Create(inv, $"[{mode}] restore of the 64 MiB full snapshot: median {Median(restores):F0} ms of 5 (min {restores.Min():F0}, max {restores.Max():F0})"));
    (await client.PostAsync($"/api/v1/vms/{vm}/stop", null)).EnsureSuccessStatusCode();

    if (mode == "native")
    {
        var before = bench.DatabaseBytes();
        var clones = new List<double>();
        for (var i = 0; i < 100; i++)
        {
            var (ms, clone) = await TimeAsync(() => PostAsync("/api/v1/vms", new { name = $"clone-{i}", fromSnapshotId = full.GetProperty("id").GetGuid() }));
            clones.Add(ms);
            // A stopped clone keeps its definition and gives its machine's memory back.
            (await client.PostAsync($"/api/v1/vms/{clone.GetProperty("id").GetGuid()}/stop", null)).EnsureSuccessStatusCode();
        }
        var after = bench.DatabaseBytes();
        Console.WriteLine(string.Create(inv, $"[{mode}] 100 clones of the 64 MiB snapshot: database {before / 1048576.0:F1} MiB → {after / 1048576.0:F1} MiB (+{(after - before) / 1024.0:F0} KiB, {(after - before) / 100.0:F0} bytes per clone); clone latency median {Median(clones):F0} ms"));
    }
}
Console.WriteLine("reproduce: dotnet build -c Release src/VirtApi && dotnet run -c Release --project bench/VirtApi.Bench.Snapshots");
return 0;

async Task<Guid> CreateVmAsync(string name, object request) => (await PostAsync("/api/v1/vms", request)).GetProperty("id").GetGuid();

Task<JsonElement> SnapshotAsync(Guid vm, string name, string kind) => PostAsync($"/api/v1/vms/{vm}/snapshots", new { name, kind });

async Task<JsonElement> PostAsync(string path, object body)
{
    var response = await client.PostAsJsonAsync(path, body);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
    return await response.Content.ReadFromJsonAsync<JsonElement>();
}

async Task WaitForConsoleAsync(Guid vm, string text)
{
    for (var attempt = 0; attempt < 6000; attempt++)
    {
        var console = await client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vm}/console?since=0");
        if (console.GetProperty("output").GetString()!.EndsWith(text, StringComparison.Ordinal))
        {
            return;
        }
        await Task.Delay(10);
    }
    throw new InvalidOperationException($"the guest did not print {text}");
}

static async Task<(double Ms, JsonElement Body)> TimeAsync(Func<Task<JsonElement>> action)
{
    var started = Stopwatch.GetTimestamp();
    var body = await action();
    return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, body);
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}
