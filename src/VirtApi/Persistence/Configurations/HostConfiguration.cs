using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using VirtApi.Hypervisor.Devices;
using VirtApi.Persistence.Entities;

namespace VirtApi.Persistence.Configurations;

internal sealed class HostConfiguration : IEntityTypeConfiguration<HostEntity>
{
    public void Configure(EntityTypeBuilder<HostEntity> builder)
    {
        builder.ToTable("Hosts");
        builder.HasKey(h => h.Id);
        builder.Property(h => h.Name).HasMaxLength(63).IsRequired();
        builder.HasIndex(h => h.Name).IsUnique();
        // Enums are stored as their kebab-case API names so the database reads like the API.
        builder.Property(h => h.HypervisorType).HasConversion(EnumNames.Converter<HypervisorType>()).HasMaxLength(32);
        builder.HasMany(h => h.Devices).WithOne().HasForeignKey(d => d.HostId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class HostDeviceConfiguration : IEntityTypeConfiguration<HostDeviceEntity>
{
    public void Configure(EntityTypeBuilder<HostDeviceEntity> builder)
    {
        builder.ToTable("HostDevices");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Name).HasMaxLength(63).IsRequired();
        builder.Property(d => d.Kind).HasConversion(EnumNames.Converter<DeviceKind>()).HasMaxLength(32);
        builder.HasIndex(d => new { d.HostId, d.Name }).IsUnique();
    }
}
