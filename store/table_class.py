"""`TableClass`: one Core table under a class name, its columns as class attributes.

store/tables.py names each table as the SQLModel class of store/models.py did, so code written
against those classes reads the same: `Advisor.__table__`, `Advisor.agency_id == x`,
`select(Advisor)`, `.join(Contract, ...)`. Nothing here builds a pydantic model or an ORM mapper.
"""
from __future__ import annotations

from sqlalchemy import Table


class TableClass:
    __table__: Table

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for column in cls.__table__.c:
            setattr(cls, column.name, column)

    @classmethod
    def __clause_element__(cls) -> Table:
        """What SQLAlchemy uses when the class itself is given where a table is expected."""
        return cls.__table__
