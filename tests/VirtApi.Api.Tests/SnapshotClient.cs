using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace VirtApi.Api.Tests;

/// <summary>What the snapshot tests do through the API, as a client would.</summary>
internal static class SnapshotClient
{
    public static async Task<JsonElement> SnapshotAsync(this HttpClient client, Guid vmId, string name, string kind = "full")
    {
        var response = await client.PostAsJsonAsync($"/api/v1/vms/{vmId}/snapshots", new { name, kind });
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"snapshot: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Boots (or resumes) the VM up to exactly <paramref name="instructions"/> and waits until it pauses there.</summary>
    public static async Task RunToAsync(this HttpClient client, Guid vmId, string action, long instructions)
    {
        var response = await client.PostAsJsonAsync($"/api/v1/vms/{vmId}/{action}", new { pauseAtInstruction = instructions });
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{action}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var paused = await client.WaitForStateAsync(vmId, "paused", "stopped", "crashed");
        Assert.Equal("paused", paused.GetProperty("state").GetString());
        Assert.Equal("pause-point", paused.GetProperty("stateReason").GetString());
        Assert.Equal(instructions, (await client.GetVmAsync(vmId)).GetProperty("instructionsRetired").GetInt64());
    }

    /// <summary>Resumes a paused VM and returns its run's console once it has powered off.</summary>
    public static async Task<string> FinishAsync(this HttpClient client, Guid vmId)
    {
        await client.ActAsync(vmId, "resume");
        var end = await client.WaitForStateAsync(vmId, "stopped", "crashed");
        Assert.Equal("guest-power-off", end.GetProperty("stateReason").GetString());
        return await client.RunConsoleAsync(vmId);
    }

    public static async Task<JsonElement> CloneAsync(this HttpClient client, Guid snapshotId, string name)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", new { name, fromSnapshotId = snapshotId });
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"clone: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static async Task<JsonElement> ProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal(code, problem.GetProperty("code").GetString());
        return problem;
    }

    /// <summary>A value straight from the server's SQLite file (what the API does not show: the page store).</summary>
    public static long Scalar(string databasePath, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a statement on the server's SQLite file, as damage on disk would.</summary>
    public static void Execute(string databasePath, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
