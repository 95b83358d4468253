using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using VirtApi.Runtime;

namespace VirtApi.Api.Tests;

/// <summary>What the migration tests do through the API, as a client would.</summary>
internal static class MigrationClient
{
    public static Task<HttpResponseMessage> MigrateAsync(this HttpClient client, Guid vmId, object request) =>
        client.PostAsJsonAsync($"/api/v1/vms/{vmId}/migrations", request);

    /// <summary>Starts a migration and expects 202 with a Location that reads it back.</summary>
    public static async Task<JsonElement> MigratedAsync(this HttpClient client, Guid vmId, object request)
    {
        var response = await client.MigrateAsync(vmId, request);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"migrate: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var migration = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"/api/v1/migrations/{migration.Id()}", response.Headers.Location?.OriginalString);
        Assert.Equal(vmId, migration.GetProperty("vmId").GetGuid());
        return migration;
    }

    public static async Task<JsonElement> GetMigrationAsync(this HttpClient client, Guid migrationId) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/v1/migrations/{migrationId}");

    /// <summary>
    /// Waits until the migration's end is recorded (the server's recorder says when, so nothing is
    /// polled) and reads it. The timeout only guards a hung test.
    /// </summary>
    public static async Task<JsonElement> EndedMigrationAsync(this WebApplicationFactory<Program> factory, HttpClient client, Guid migrationId)
    {
        await factory.Services.GetRequiredService<MigrationRecorder>().WhenEnded(migrationId).WaitAsync(TimeSpan.FromMinutes(2));
        var migration = await client.GetMigrationAsync(migrationId);
        Assert.NotNull(migration.GetProperty("endedAt").GetString());
        return migration;
    }

    public static async Task<JsonElement> CheckAsync(this HttpClient client, Guid vmId, Guid targetHostId, string mode = "live")
    {
        var response = await client.GetAsync($"/api/v1/vms/{vmId}/migrations/check?targetHostId={targetHostId}&mode={mode}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"check: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>A host's memory charged and VMs placed, as <c>GET /api/v1/hosts/{id}</c> shows them.</summary>
    public static async Task<(long MemoryUsedMiB, int Vms)> UsageAsync(this HttpClient client, Guid hostId)
    {
        var usage = (await client.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{hostId}")).GetProperty("usage");
        return (usage.GetProperty("memoryUsedMiB").GetInt64(), usage.GetProperty("vms").GetInt32());
    }

    /// <summary>The codes of a check's blockers, in order.</summary>
    public static string[] BlockerCodes(this JsonElement check) =>
        [.. check.GetProperty("blockers").EnumerateArray().Select(b => b.GetProperty("code").GetString()!)];
}
