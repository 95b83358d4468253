using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace VirtApi.Api.Tests;

public sealed class PersistenceTests : IDisposable
{
    private readonly string _databasePath = VirtApiFactory.NewDatabasePath();

    public void Dispose() => VirtApiFactory.DeleteDatabase(_databasePath);

    [Fact]
    public async Task CreatedHost_SurvivesARestartOnTheSameFile()
    {
        Guid id;
        using (var first = VirtApiFactory.OnDatabase(_databasePath))
        {
            var response = await first.CreateClient().PostAsJsonAsync("/api/v1/hosts", new { name = "host-kept", physicalCpus = 2, memoryMiB = 2048, hypervisorType = "bare-metal" });
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        }

        using var second = VirtApiFactory.OnDatabase(_databasePath);
        var host = await second.CreateClient().GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{id}");
        Assert.Equal("host-kept", host.GetProperty("name").GetString());
        Assert.Equal("bare-metal", host.GetProperty("hypervisorType").GetString());
    }

    [Fact]
    public async Task SecondStart_OnTheSameFile_ChangesNothing()
    {
        string before;
        using (var first = VirtApiFactory.OnDatabase(_databasePath))
        {
            before = await first.CreateClient().GetStringAsync("/api/v1/hosts");
        }
        using var second = VirtApiFactory.OnDatabase(_databasePath);
        var after = await second.CreateClient().GetStringAsync("/api/v1/hosts");

        Assert.Equal(before, after);
        Assert.Equal(1, Scalar("SELECT COUNT(*) FROM __EFMigrationsHistory WHERE MigrationId LIKE '%InitialHosts'"));
    }

    [Fact]
    public async Task Database_UsesWriteAheadLogging_AndTheMigrationsHistory()
    {
        using (var factory = VirtApiFactory.OnDatabase(_databasePath))
        {
            await factory.CreateClient().GetAsync("/healthz");
        }
        Assert.Equal("wal", ScalarText("PRAGMA journal_mode"));
        Assert.True(Scalar("SELECT COUNT(*) FROM __EFMigrationsHistory") >= 1);
        Assert.Equal(2, Scalar("SELECT COUNT(*) FROM Hosts WHERE FromConfiguration = 1"));
    }

    private long Scalar(string sql) => Convert.ToInt64(Query(sql), System.Globalization.CultureInfo.InvariantCulture);

    private string ScalarText(string sql) => Convert.ToString(Query(sql), System.Globalization.CultureInfo.InvariantCulture)!;

    private object Query(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_databasePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar()!;
    }
}
