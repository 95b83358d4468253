using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using VirtApi.Persistence;

namespace VirtApi.Api.Tests;

public sealed class InfoTests : IClassFixture<VirtApiFactory>
{
    private readonly VirtApiFactory _factory;
    private readonly HttpClient _client;

    public InfoTests(VirtApiFactory factory)
    {
        _factory = factory;
        _client = factory.CreateClient();
    }

    [Fact]
    public async Task Healthz_AnswersOk()
    {
        var response = await _client.GetAsync("/healthz");
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ok", body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Healthz_RunsNoDatabaseCommand()
    {
        var counter = new CommandCounter();
        using var factory = _factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
            services.ConfigureDbContext<VirtApiDbContext>(options => options.AddInterceptors(counter))));
        using var client = factory.CreateClient();

        var before = counter.Count;
        var health = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(before, counter.Count);

        // The counter does see database work: listing hosts runs a query.
        await client.GetAsync("/api/v1/hosts");
        Assert.True(counter.Count > before);
    }

    private sealed class CommandCounter : DbCommandInterceptor
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _count);
            return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }
    }

    [Fact]
    public async Task Info_ListsEveryTechniqueOfTheDesignWithAvailability()
    {
        var info = await _client.GetFromJsonAsync<JsonElement>("/api/v1/info");
        Assert.Equal("VirtApi", info.GetProperty("name").GetString());
        Assert.Equal("v1", info.GetProperty("apiVersion").GetString());
        Assert.Matches(@"^\d+\.\d+\.\d+", info.GetProperty("version").GetString());

        static string[] Names(JsonElement list) => list.EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["native", "trap-and-emulate", "binary-translation", "paravirtual", "hardware-assisted"], Names(info.GetProperty("cpuModes")));
        Assert.Equal(["riscv", "x86-legacy"], Names(info.GetProperty("cpuProfiles")));
        Assert.Equal(["direct", "shadow", "nested", "paravirtual"], Names(info.GetProperty("memoryModes")));
        Assert.Equal(["emulated", "split", "passthrough"], Names(info.GetProperty("deviceModels")));
        static string[] Available(JsonElement list) => list.EnumerateArray().Where(c => c.GetProperty("available").GetBoolean()).Select(c => c.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(["native", "trap-and-emulate"], Available(info.GetProperty("cpuModes")));
        Assert.Equal(["riscv", "x86-legacy"], Available(info.GetProperty("cpuProfiles")));
        Assert.Equal(["direct", "shadow"], Available(info.GetProperty("memoryModes")));
        Assert.Equal(["emulated", "split", "passthrough"], Available(info.GetProperty("deviceModels")));
        Assert.Equal(["console", "block", "net"], Names(info.GetProperty("deviceKinds")));
        Assert.Equal(["console", "block"], Available(info.GetProperty("deviceKinds")));
        foreach (var capability in info.GetProperty("cpuModes").EnumerateArray())
        {
            Assert.True(capability.TryGetProperty("available", out var available) && available.ValueKind is JsonValueKind.True or JsonValueKind.False);
            Assert.False(string.IsNullOrEmpty(capability.GetProperty("description").GetString()));
        }
    }

    [Fact]
    public async Task SwaggerUi_IsServed()
    {
        var response = await _client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("swagger", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task UnknownRoute_IsAProblemWithCode()
    {
        var response = await _client.GetAsync("/api/v1/nothing-here");
        await response.ReadProblemAsync(HttpStatusCode.NotFound, "not-found");
    }
}
