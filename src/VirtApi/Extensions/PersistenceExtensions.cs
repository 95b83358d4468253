using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using VirtApi.Devices;
using VirtApi.Hosts;
using VirtApi.Persistence;

namespace VirtApi.Extensions;

internal static class PersistenceExtensions
{
    /// <summary>SQLite through EF Core, the start-up migration, the default hosts, and the data folder of device files.</summary>
    public static WebApplicationBuilder AddPersistence(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var path = Path.GetFullPath(options.Path, builder.Environment.ContentRootPath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            DefaultTimeout = 30,
        }.ToString();

        builder.Services.AddDbContext<VirtApiDbContext>(db => db.UseSqlite(connectionString));
        builder.Services.AddOptions<List<HostSeed>>().BindConfiguration(HostSeed.Section);
        builder.Services.AddSingleton(TimeProvider.System);
        // Block devices' backing files live beside the database (docs/decisions.md 15).
        var dataFolder = Path.GetDirectoryName(path)!;
        builder.Services.AddSingleton(services => new DeviceFiles(dataFolder, services.GetRequiredService<ILogger<DeviceFiles>>()));
        builder.Services.AddHostedService<DatabaseInitializer>();
        return builder;
    }
}
