using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace VirtApi.Bench;

/// <summary>
/// The real server process (the Release build of src/VirtApi) on a fresh data folder and port, with
/// an HTTP client to it: what the API benchmarks measure against. Shared by the benchmark projects.
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private BenchServer(Process process, string dataDir, HttpClient client)
    {
        Process = process;
        DataDir = dataDir;
        Client = client;
    }

    public Process Process { get; }

    public string DataDir { get; }

    public string DatabasePath => Path.Combine(DataDir, "bench.db");

    public HttpClient Client { get; }

    /// <summary>Starts the server and waits until it answers; null (with a message) when it is not built.</summary>
    public static async Task<BenchServer?> StartAsync()
    {
        var serverDll = Path.Combine(FindRoot(), "src", "VirtApi", "bin", "Release", "net10.0", "VirtApi.dll");
        if (!File.Exists(serverDll))
        {
            Console.Error.WriteLine($"build the server first: dotnet build -c Release src/VirtApi ({serverDll} is missing)");
            return null;
        }
        var port = 5600 + Random.Shared.Next(300);
        var dataDir = Directory.CreateTempSubdirectory("virtapi-bench-").FullName;
        var process = Process.Start(new ProcessStartInfo("dotnet", [serverDll, "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = dataDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["Database__Path"] = Path.Combine(dataDir, "bench.db"),
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Warning",
            },
        })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new BenchServer(process, dataDir, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(5) });
        await server.WaitForServerAsync();
        return server;
    }

    public async Task<Guid> CreateImageAsync(string name, string source)
    {
        var response = await Client.PostAsJsonAsync("/api/v1/images", new { name, format = "asm", source });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>The database's bytes on disk (with its write-ahead log).</summary>
    public long DatabaseBytes() =>
        new[] { DatabasePath, DatabasePath + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Process.Kill(entireProcessTree: true);
        await Process.WaitForExitAsync();
        Process.Dispose();
        Directory.Delete(DataDir, recursive: true);
    }

    private async Task WaitForServerAsync()
    {
        for (var attempt = 0; attempt < 300; attempt++)
        {
            try
            {
                if ((await Client.GetAsync("/healthz")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("the server did not start");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VirtApi.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("VirtApi.sln not found above " + AppContext.BaseDirectory);
    }
}
