// Benchmarks of the VM service (issue 5), run against the real server process over HTTP:
//   boot latency: POST boot → first console byte of `hello` (from the VM's event stream), 100 boots;
//   throughput: hello VMs created, booted and finished per second;
//   memory: the server's resident memory with 200 idle running VMs, beyond the idle server.
// Reproduce: dotnet run -c Release --project bench/VirtApi.Bench.Api
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Text.Json;
using VirtApi.Bench;

await using var bench = await BenchServer.StartAsync();
if (bench is null)
{
    return 2;
}
var server = bench.Process;
var client = bench.Client;
{
    var images = await client.GetFromJsonAsync<JsonElement>("/api/v1/images");
    var hello = images.EnumerateArray().First(i => i.GetProperty("name").GetString() == "hello").GetProperty("id").GetGuid();

    // Warm up: JIT the boot path once.
    await BootToFirstByteAsync(client, await CreateVmAsync(client, "warmup", hello));

    var latencies = new List<double>();
    for (var i = 0; i < 100; i++)
    {
        latencies.Add(await BootToFirstByteAsync(client, await CreateVmAsync(client, $"latency-{i}", hello)));
    }
    latencies.Sort();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"boot latency (POST boot → first console byte of hello), 100 boots: median {latencies[49]:F2} ms, p99 {latencies[98]:F2} ms, max {latencies[99]:F2} ms"));

    const int Count = 200;
    var stopwatch = Stopwatch.StartNew();
    await Parallel.ForAsync(0, Count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
    {
        var vm = await CreateVmAsync(client, $"throughput-{i}", hello);
        await StartAndWaitAsync(client, vm, "stopped");
    });
    stopwatch.Stop();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"throughput: {Count} hello VMs created, booted and finished in {stopwatch.Elapsed.TotalSeconds:F2} s = {Count / stopwatch.Elapsed.TotalSeconds:F1} VMs/s (16 clients)"));

    // Idle VMs: print "ready", then wait for an interrupt that only console input could raise.
    var idleImage = await bench.CreateImageAsync("idle", """
        .globl _start
        _start:
            li t0, 0x10000000
            li t1, 114
            sb t1, 0(t0)
        1:  wfi
            j 1b
        """);
    foreach (var vm in (await client.GetFromJsonAsync<JsonElement>("/api/v1/vms?limit=500")).GetProperty("items").EnumerateArray())
    {
        await client.DeleteAsync($"/api/v1/vms/{vm.GetProperty("id").GetGuid()}");
    }
    GC.Collect();
    var baseline = ResidentKiB(server.Id);
    for (var i = 0; i < 200; i++)
    {
        var vm = await CreateVmAsync(client, $"idle-{i}", idleImage, memoryMiB: 64);
        await client.PostAsync($"/api/v1/vms/{vm}/boot", null);
    }
    for (var i = 0; i < 200; i++)
    {
        var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/vms?state=running&limit=500");
        if (page.GetProperty("total").GetInt32() == 200)
        {
            break;
        }
    }
    await Task.Delay(1000);
    var loaded = ResidentKiB(server.Id);
    var running = (await client.GetFromJsonAsync<JsonElement>("/api/v1/vms?state=running&limit=500")).GetProperty("total").GetInt32();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"memory: {running} idle running VMs (64 MiB each) take {(loaded - baseline) / 1024.0:F1} MiB of server RSS beyond the idle server ({baseline / 1024.0:F1} MiB → {loaded / 1024.0:F1} MiB), {(loaded - baseline) / (double)Math.Max(1, running):F0} KiB per VM"));
    Console.WriteLine("reproduce: dotnet build -c Release src/VirtApi && dotnet run -c Release --project bench/VirtApi.Bench.Api");
    return 0;
}

static async Task<Guid> CreateVmAsync(HttpClient client, string name, Guid image, int memoryMiB = 16)
{
    var response = await client.PostAsJsonAsync("/api/v1/vms", new { name, imageId = image, memoryMiB });
    response.EnsureSuccessStatusCode();
    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
}

// Time from sending the boot request to the first console event of the VM's stream.
static async Task<double> BootToFirstByteAsync(HttpClient client, Guid vm)
{
    using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/vms/{vm}/events");
    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    var events = SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync().GetAsyncEnumerator();
    await events.MoveNextAsync(); // the current state, sent first
    var started = Stopwatch.GetTimestamp();
    (await client.PostAsync($"/api/v1/vms/{vm}/boot", null)).EnsureSuccessStatusCode();
    while (await events.MoveNextAsync())
    {
        if (events.Current.EventType == "console")
        {
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            await events.DisposeAsync();
            return elapsed;
        }
    }
    throw new InvalidOperationException("no console output");
}

static async Task StartAndWaitAsync(HttpClient client, Guid vm, string state)
{
    using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/vms/{vm}/events");
    using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    var events = SseParser.Create(await response.Content.ReadAsStreamAsync()).EnumerateAsync().GetAsyncEnumerator();
    (await client.PostAsync($"/api/v1/vms/{vm}/boot", null)).EnsureSuccessStatusCode();
    while (await events.MoveNextAsync())
    {
        if (events.Current.EventType == "state" && events.Current.Data.Contains($"\"state\":\"{state}\"", StringComparison.Ordinal))
        {
            await events.DisposeAsync();
            return;
        }
    }
}

static long ResidentKiB(int pid)
{
    foreach (var line in File.ReadLines($"/proc/{pid}/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
        {
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
    }
    return 0;
}

