using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace VirtApi.Api.Tests;

/// <summary>
/// The real server on a real SQLite file with the real migrations. Each factory gets its own file
/// unless it is handed one, which is how the restart tests start a second server on the same data.
/// </summary>
public sealed class VirtApiFactory : WebApplicationFactory<Program>
{
    private readonly bool _ownsDatabase;
    private readonly Dictionary<string, string> _settings = new(StringComparer.Ordinal);
    private Action<IServiceCollection>? _services;

    /// <summary>A server on a database file of its own, deleted with the factory.</summary>
    public VirtApiFactory()
    {
        _ownsDatabase = true;
        DatabasePath = NewDatabasePath();
    }

    private VirtApiFactory(string databasePath)
    {
        _ownsDatabase = false;
        DatabasePath = databasePath;
    }

    /// <summary>A server on <paramref name="databasePath"/>, which outlives the factory (a restart).</summary>
    public static VirtApiFactory OnDatabase(string databasePath) => new(databasePath);

    /// <summary>A configuration setting for the server, as <c>appsettings.json</c> would give it; before the server starts.</summary>
    public VirtApiFactory WithSetting(string key, string value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>Changes the server's services (a test's own hypervisor in front of the real one); before the server starts.</summary>
    public VirtApiFactory WithServices(Action<IServiceCollection> configure)
    {
        _services += configure;
        return this;
    }

    /// <summary>The SQLite file this server uses.</summary>
    public string DatabasePath { get; }

    /// <summary>A fresh path in a fresh temporary folder.</summary>
    public static string NewDatabasePath() =>
        Path.Combine(Directory.CreateTempSubdirectory("virtapi-test-").FullName, "virtapi.db");

    /// <summary>Deletes a database file and its folder after every server using it has stopped.</summary>
    public static void DeleteDatabase(string path)
    {
        SqliteConnection.ClearAllPools();
        var folder = Path.GetDirectoryName(path)!;
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Database:Path", DatabasePath);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        if (_services is { } services)
        {
            builder.ConfigureTestServices(services);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownsDatabase)
        {
            DeleteDatabase(DatabasePath);
        }
    }
}
